import WebSocket from "ws";

/** A client of Pulse's `/ws` query protocol (docs/websocket-protocol.md), one socket, many queries. */
export interface QueryClient {
  /** Total pageviews of a site between two UTC days, both included. */
  pageviews(site: string, from: string, to: string): Promise<number>;
  close(): void;
}

interface Pending {
  total: number;
  resolve: (n: number) => void;
  reject: (e: Error) => void;
}

export const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** `token`: a query token (`pulse token create`), sent as a Bearer header; Pulse versions before tokens need none. */
export const openQueryClient = (baseUrl: string, token?: string): Promise<QueryClient> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    const pending = new Map<string, Pending>();
    let counter = 0;
    let closed = false;
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { id: string; type: string; rows?: Record<string, unknown>[]; error?: { code: string; message: string } };
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === "rows") for (const row of m.rows ?? []) p.total += Number(row["pageviews"] ?? 0);
      else if (m.type === "done") {
        pending.delete(m.id);
        p.resolve(p.total);
      } else if (m.type === "error") {
        pending.delete(m.id);
        p.reject(new Error(`${m.error?.code ?? "error"}: ${m.error?.message ?? ""}`));
      }
    });
    const failAll = (e: Error): void => {
      closed = true;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    ws.on("close", () => failAll(new Error("query socket closed")));
    ws.once("error", (e) => {
      failAll(e);
      reject(e);
    });
    ws.once("open", () =>
      resolve({
        pageviews: (site, from, to) =>
          new Promise<number>((res, rej) => {
            if (closed) {
              rej(new Error("query socket closed"));
              return;
            }
            const id = `q${counter++}`;
            pending.set(id, { total: 0, resolve: res, reject: rej });
            ws.send(JSON.stringify({ op: "query", id, query: { site, from, to, metrics: ["pageviews"] } }));
          }),
        close: () => ws.close(),
      }),
    );
  });
