import type { WebSocket, WebSocketBehavior } from "uWebSockets.js";
import { InvalidInput, StoreError } from "../core/errors.js";
import { messageId, parseClientMessage, type ServerMessage } from "../query/protocol.js";
import type { QueryService } from "../query/service.js";
import { CLIENT_HINT_HEADERS } from "../enrich/user-agent.js";
import type { ClientFacts } from "./enrich.js";

interface Socket {
  readonly queries: Map<string, { cancelled: boolean }>;
  /** The sites this socket's token may read; none for a tracker's socket without a token. */
  readonly sites: ReadonlySet<string>;
  /** The client as seen at the upgrade, for events tracked over the socket. */
  readonly client: ClientFacts;
  closed: boolean;
}

/** Events sent with `{"op":"track"}`: taken as a native /collect body. */
export type Track = (body: Buffer, client: ClientFacts) => Promise<{ accepted: number; ids: readonly string[]; rejected: readonly unknown[] }>;

/** The sites a query token may read; undefined when it is unknown or revoked. */
export type TokenCheck = (token: string) => readonly string[] | undefined;

const errorMessage = (id: string | null, e: unknown): ServerMessage => {
  if (e instanceof InvalidInput) return { id, type: "error", error: { code: e.code, message: e.message } };
  if (e instanceof StoreError) return { id, type: "error", error: { code: e.retryable ? "unavailable" : "query_failed", message: e.message } };
  return { id, type: "error", error: { code: "internal", message: "internal error" } };
};

export interface QuerySockets {
  readonly behavior: WebSocketBehavior<Socket>;
  /** Ends every open socket, e.g. when the server shuts down. */
  readonly closeAll: () => void;
}

/** `/ws`: one socket carries many queries at once, told apart by their ids. */
export const queryWebSocket = (service: QueryService, tokenSites: TokenCheck, track: Track): QuerySockets => {
  const sockets = new Set<WebSocket<Socket>>();
  const behavior: WebSocketBehavior<Socket> = {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  // A client too slow to take its results is disconnected rather than silently sent fewer rows.
  maxBackpressure: 16 * 1024 * 1024,
  closeOnBackpressureLimit: 1,
  upgrade: (res, req, context) => {
    // A browser cannot set headers on a WebSocket, so the token may also come as ?token=.
    const bearer = /^Bearer (.+)$/.exec(req.getHeader("authorization"))?.[1];
    const token = bearer ?? new URLSearchParams(req.getQuery() ?? "").get("token") ?? "";
    // No token: a tracker's socket, which may send events but read nothing. A wrong token: no socket.
    const sites = token === "" ? [] : tokenSites(token);
    if (!sites) {
      res.writeStatus("401 Unauthorized").writeHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "a valid query token is required (?token= or Authorization: Bearer)" } }));
      return;
    }
    const hints: Record<string, string> = {};
    for (const h of CLIENT_HINT_HEADERS) hints[h] = req.getHeader(h);
    const client: ClientFacts = { ip: Buffer.from(res.getRemoteAddressAsText()).toString(), userAgent: req.getHeader("user-agent"), hints };
    res.upgrade<Socket>(
      { queries: new Map(), sites: new Set(sites), client, closed: false },
      req.getHeader("sec-websocket-key"),
      req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  },
  open: (ws) => {
    sockets.add(ws);
  },
  close: (ws) => {
    const data = ws.getUserData();
    data.closed = true;
    for (const q of data.queries.values()) q.cancelled = true;
    sockets.delete(ws);
  },
  message: (ws, message) => {
    const data = ws.getUserData();
    const send = (m: ServerMessage): void => {
      if (!data.closed) ws.send(JSON.stringify(m));
    };
    const text = Buffer.from(message).toString("utf8");
    let msg;
    try {
      msg = parseClientMessage(text);
    } catch (e) {
      send(errorMessage(messageId(text), e));
      return;
    }
    if (msg.op === "cancel") {
      const q = data.queries.get(msg.id);
      if (q) q.cancelled = true;
      data.queries.delete(msg.id);
      send({ id: msg.id, type: "cancelled" });
      return;
    }
    if (msg.op === "track") {
      const { id } = msg;
      track(Buffer.from(JSON.stringify(msg.body)), data.client).then(
        (r) => send({ id, type: "tracked", ...r }),
        (e: unknown) => send(errorMessage(id, e)),
      );
      return;
    }
    if (data.sites.size === 0) {
      send({ id: msg.id, type: "error", error: { code: "unauthorized", message: "queries need a query token (?token= or Authorization: Bearer)" } });
      return;
    }
    if (!data.sites.has(msg.query.site)) {
      // The same answer whether or not the site exists: a token learns nothing about other sites.
      send({ id: msg.id, type: "error", error: { code: "forbidden", message: `this token may not read site "${msg.query.site.slice(0, 128)}"` } });
      return;
    }
    if (data.queries.has(msg.id)) {
      send({ id: msg.id, type: "error", error: { code: "duplicate_id", message: `a query with id "${msg.id}" is still running` } });
      return;
    }
    const state = { cancelled: false };
    data.queries.set(msg.id, state);
    const { id, query } = msg;
    const cancelled = (): boolean => state.cancelled || data.closed;
    void service
      .run(id, query, send, cancelled)
      .catch((e: unknown) => {
        // After `cancelled` the client may reuse the id; nothing more may arrive under it.
        if (!cancelled()) send(errorMessage(id, e));
      })
      .finally(() => {
        if (data.queries.get(id) === state) data.queries.delete(id);
      });
  },
};
  return {
    behavior,
    closeAll: () => {
      for (const ws of [...sockets]) ws.end(1001, "server shutting down");
    },
  };
};
