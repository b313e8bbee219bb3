import { createHash } from "node:crypto";
import { InvalidInput, StoreError, Unavailable } from "../core/errors.js";
import type { LiveQueries } from "./live/hub.js";
import { newLiveState, noteFlush, runFinished, runStarted, shouldRun, type LiveState } from "./live/subscription.js";
import type { QueryLimits } from "./limits.js";
import type { ClientMessage, ServerMessage } from "./protocol.js";
import type { ReportSpec } from "./report.js";
import { streamAnswer, type QueryService, type ReportAnswer } from "./service.js";

export const errorMessage = (id: string | null, e: unknown): ServerMessage => {
  if (e instanceof InvalidInput || e instanceof Unavailable) return { id, type: "error", error: { code: e.code, message: e.message } };
  if (e instanceof StoreError) return { id, type: "error", error: { code: e.retryable ? "unavailable" : "query_failed", message: e.message } };
  return { id, type: "error", error: { code: "internal", message: "internal error" } };
};

/** Where a session's messages go: a socket, whose unsent bytes tell how far behind its client is. */
export interface Outbox {
  send(m: ServerMessage): void;
  backpressured(): boolean;
}

export interface SessionDeps {
  readonly service: QueryService;
  /** Present in the process that owns the store; without it, subscriptions are refused like queries. */
  readonly live: LiveQueries | undefined;
  readonly limits: QueryLimits;
}

/** The query side of one socket. `track` is not its business. */
export interface QuerySession {
  handle(msg: Exclude<ClientMessage, { op: "track" }>): void;
  /** The socket took some of its backlog: owed subscription answers can go now. */
  drained(): void;
  close(): void;
}

interface Entry {
  cancelled: boolean;
  /** Stops a subscription's following of its site; nothing for a one-off query. */
  readonly stop: () => void;
  /** Re-checks whether a subscription should run (after a drain). */
  readonly check: () => void;
}

const hashAnswer = (a: ReportAnswer): string => createHash("sha256").update(JSON.stringify([a.columns, a.rows])).digest("base64url");

const notServed = new StoreError("query", "this process does not serve queries; ask the process that runs the store role", false);

/**
 * One actor per socket: it holds the socket's running queries and subscriptions by id. Every
 * query and subscription takes one of the token's slots in `limits` until it ends.
 */
export const openQuerySession = (deps: SessionDeps, token: string, sites: ReadonlySet<string>, out: Outbox): QuerySession => {
  const entries = new Map<string, Entry>();
  let closed = false;
  const send = (m: ServerMessage): void => {
    if (!closed) out.send(m);
  };

  const end = (id: string, entry: Entry): void => {
    entry.cancelled = true;
    entry.stop();
    if (entries.get(id) === entry) entries.delete(id);
  };

  const admit = (id: string, query: ReportSpec): boolean => {
    if (sites.size === 0) {
      send({ id, type: "error", error: { code: "unauthorized", message: "queries need a query token (?token= or Authorization: Bearer)" } });
      return false;
    }
    if (!sites.has(query.site)) {
      // The same answer whether or not the site exists: a token learns nothing about other sites.
      send({ id, type: "error", error: { code: "forbidden", message: `this token may not read site "${query.site.slice(0, 128)}"` } });
      return false;
    }
    if (entries.has(id)) {
      send({ id, type: "error", error: { code: "duplicate_id", message: `a query with id "${id}" is still running` } });
      return false;
    }
    try {
      deps.limits.acquire(token);
    } catch (e) {
      send(errorMessage(id, e));
      return false;
    }
    return true;
  };

  const runOnce = (id: string, query: ReportSpec): void => {
    const entry: Entry = { cancelled: false, stop: () => undefined, check: () => undefined };
    entries.set(id, entry);
    const cancelled = (): boolean => entry.cancelled || closed;
    void deps.service
      .run(id, query, send, cancelled)
      .catch((e: unknown) => {
        // After `cancelled` the client may reuse the id; nothing more may arrive under it.
        if (!cancelled()) send(errorMessage(id, e));
      })
      .finally(() => {
        deps.limits.release(token);
        if (entries.get(id) === entry) entries.delete(id);
      });
  };

  const subscribe = (id: string, query: ReportSpec, live: LiveQueries): void => {
    let state: LiveState = newLiveState();
    let update = 0;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      unwatch();
      deps.limits.release(token);
    };
    const cancelled = (): boolean => entry.cancelled || closed;
    const check = (): void => {
      const watermark = live.watermark();
      if (cancelled() || watermark === undefined || !shouldRun(state, watermark, out.backpressured())) return;
      state = runStarted(state, watermark);
      deps.service.compute(query).then(
        (answer) => {
          if (cancelled()) return;
          const r = runFinished(state, hashAnswer(answer), out.backpressured());
          state = r.state;
          if (r.send) {
            const extra = { update: update++, watermark: new Date(watermark).toISOString() };
            streamAnswer(id, answer, (m) => send(m.type === "done" ? { ...m, ...extra } : m), cancelled);
          }
          check();
        },
        (e: unknown) => {
          // A failed run ends the subscription: the client learns it and may subscribe again.
          if (cancelled()) return;
          send(errorMessage(id, e));
          end(id, entry);
        },
      );
    };
    const entry: Entry = { cancelled: false, stop: release, check };
    entries.set(id, entry);
    const unwatch = live.watch(query.site, {
      flushed: (at) => {
        state = noteFlush(state, at);
        check();
      },
      advanced: check,
    });
    check();
  };

  return {
    handle(msg) {
      if (msg.op !== "query" && msg.op !== "subscribe") {
        const entry = entries.get(msg.id);
        if (entry) end(msg.id, entry);
        send({ id: msg.id, type: "cancelled" });
        return;
      }
      if (!admit(msg.id, msg.query)) return;
      if (msg.op === "query") runOnce(msg.id, msg.query);
      else if (deps.live) subscribe(msg.id, msg.query, deps.live);
      else {
        deps.limits.release(token);
        send(errorMessage(msg.id, notServed));
      }
    },
    drained() {
      for (const e of [...entries.values()]) e.check();
    },
    close() {
      closed = true;
      for (const [id, e] of [...entries]) end(id, e);
    },
  };
};
