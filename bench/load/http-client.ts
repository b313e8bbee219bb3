import { connect, type Socket } from "node:net";

/**
 * A minimal HTTP/1.1 keep-alive client: one request in flight per connection, responses
 * read by Content-Length. It costs the load generator far less CPU per request than fetch,
 * which matters when the generator shares two cores with the system under test.
 */
export interface HttpAnswer {
  readonly status: number;
  /** Retry-After, when the server sent one. */
  readonly retryAfter: string | undefined;
  readonly body: string;
}

type Done = (error: Error | undefined, answer: HttpAnswer | undefined) => void;

const HEADER_END = Buffer.from("\r\n\r\n");
// uWebSockets.js closes HTTP connections idle for 10 s; one reused just as the server closes it
// loses its request. Connections idle longer than this are replaced before use instead.
const MAX_IDLE_MS = 5_000;

export class HttpConnection {
  private socket: Socket | undefined;
  private connecting: Promise<void> | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private waiting: Done | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastUsed = 0;
  busy = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  open(): Promise<void> {
    if (this.socket && !this.socket.destroyed && !this.connecting) return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<void>((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port });
      s.setNoDelay(true);
      s.once("connect", () => {
        this.connecting = undefined;
        resolve();
      });
      // Events of a socket this connection already gave up on must not touch its successor.
      s.on("data", (chunk: Buffer) => {
        if (this.socket === s) this.onData(chunk);
      });
      s.on("error", (e) => {
        if (this.socket !== s) return;
        if (this.connecting) {
          this.connecting = undefined;
          reject(e);
        }
        this.fail(e);
      });
      s.on("close", () => {
        if (this.socket === s) this.fail(new Error("connection closed"));
      });
      this.socket = s;
    });
    return this.connecting;
  }

  /**
   * Sends one POST; `done` is called exactly once. A request that fails because a reused
   * connection was reset before any answer is sent once more on a new connection (the event
   * ids make that safe: Pulse stores an event once however often it is sent).
   */
  post(path: string, body: string, headers: string, done: Done, retried = false): void {
    this.busy = true;
    const reused = this.socket !== undefined && !this.socket.destroyed;
    this.waiting = (error, answer) => {
      if (error && reused && !retried && /ECONNRESET|EPIPE|connection closed/.test(error.message)) {
        this.post(path, body, headers, done, true);
        return;
      }
      done(error, answer);
    };
    this.pending = Buffer.alloc(0);
    if (this.socket && Date.now() - this.lastUsed > MAX_IDLE_MS) {
      const old = this.socket;
      this.socket = undefined;
      old.destroy();
    }
    this.lastUsed = Date.now();
    const send = (): void => {
      const head = `POST ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      this.socket?.write(head + body);
      this.timer = setTimeout(() => {
        this.fail(new Error(`no answer within ${this.timeoutMs} ms`));
        this.socket?.destroy();
      }, this.timeoutMs);
    };
    if (this.socket && !this.socket.destroyed && !this.connecting) send();
    else this.open().then(send, (e: unknown) => this.fail(e as Error));
  }

  close(): void {
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = this.pending.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.pending.toString("latin1", 0, end);
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const length = lengthMatch ? Number(lengthMatch[1]) : 0;
    if (this.pending.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    const retry = /\r\nretry-after:\s*([^\r]+)/i.exec(head);
    const body = this.pending.toString("utf8", end + 4, end + 4 + length);
    this.pending = Buffer.alloc(0);
    this.settle(undefined, { status, retryAfter: retry ? retry[1] : undefined, body });
  }

  private fail(e: Error): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.settle(e, undefined);
  }

  private settle(error: Error | undefined, answer: HttpAnswer | undefined): void {
    clearTimeout(this.timer);
    this.lastUsed = Date.now();
    const done = this.waiting;
    this.waiting = undefined;
    this.busy = false;
    done?.(error, answer);
  }
}
