import WebSocket from "ws";

export interface QueryAnswer {
  readonly messages: readonly Record<string, unknown>[];
  readonly rows: readonly Record<string, string | number>[];
  readonly done: Record<string, unknown> | undefined;
  readonly error: { code: string; message: string } | undefined;
}

/** A WebSocket client the way a dashboard would use one: open, send queries by id, collect what comes back. */
export class QueryClient {
  private readonly waiting = new Map<string, { messages: Record<string, unknown>[]; resolve: (a: QueryAnswer) => void }>();
  readonly received: Record<string, unknown>[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      this.received.push(m);
      const w = this.waiting.get(String(m["id"]));
      if (!w) return;
      w.messages.push(m);
      if (m["type"] === "done" || m["type"] === "error" || m["type"] === "cancelled") {
        this.waiting.delete(String(m["id"]));
        const rows = w.messages.flatMap((x) => (x["type"] === "rows" ? (x["rows"] as Record<string, string | number>[]) : []));
        w.resolve({
          messages: w.messages,
          rows,
          done: m["type"] === "done" ? m : undefined,
          error: m["type"] === "error" ? (m["error"] as { code: string; message: string }) : undefined,
        });
      }
    });
  }

  static open(httpUrl: string, token: string): Promise<QueryClient> {
    const ws = new WebSocket(`${httpUrl.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new QueryClient(ws)));
      ws.once("error", reject);
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  query(id: string, query: Record<string, unknown>): Promise<QueryAnswer> {
    return new Promise((resolve) => {
      this.waiting.set(id, { messages: [], resolve });
      this.ws.send(JSON.stringify({ op: "query", id, query }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
