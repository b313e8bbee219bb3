import WebSocket from "ws";

export interface QueryAnswer {
  readonly messages: readonly Record<string, unknown>[];
  readonly rows: readonly Record<string, string | number>[];
  readonly done: Record<string, unknown> | undefined;
  readonly error: { code: string; message: string } | undefined;
}

/** The answers a live subscription received so far, each its rows and its `done`. */
export interface LiveAnswers {
  readonly answers: { readonly rows: Record<string, string | number>[]; readonly done: Record<string, unknown>; readonly receivedAt: number }[];
  /** Set when the subscription ended with an error or was cancelled. */
  ended: Record<string, unknown> | undefined;
}

/** A WebSocket client the way a dashboard would use one: open, send queries by id, collect what comes back. */
export class QueryClient {
  private readonly waiting = new Map<string, { messages: Record<string, unknown>[]; resolve: (a: QueryAnswer) => void }>();
  private readonly live = new Map<string, { sub: LiveAnswers; rows: Record<string, string | number>[] }>();
  readonly received: Record<string, unknown>[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      this.received.push(m);
      const l = this.live.get(String(m["id"]));
      if (l) {
        if (m["type"] === "rows") l.rows.push(...(m["rows"] as Record<string, string | number>[]));
        else if (m["type"] === "done") {
          l.sub.answers.push({ rows: l.rows, done: m, receivedAt: Date.now() });
          l.rows = [];
        } else {
          l.sub.ended = m;
          this.live.delete(String(m["id"]));
        }
        return;
      }
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

  /** Subscribes; the returned object fills up as answers arrive. */
  subscribe(id: string, query: Record<string, unknown>): LiveAnswers {
    const sub: LiveAnswers = { answers: [], ended: undefined };
    this.live.set(id, { sub, rows: [] });
    this.ws.send(JSON.stringify({ op: "subscribe", id, query }));
    return sub;
  }

  /** Ends a subscription; resolves with the server's answer to it. */
  unsubscribe(id: string): Promise<QueryAnswer> {
    this.live.delete(id);
    return new Promise((resolve) => {
      this.waiting.set(id, { messages: [], resolve });
      this.ws.send(JSON.stringify({ op: "unsubscribe", id }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
