import type { WebSocket, WebSocketBehavior } from "uWebSockets.js";
import { messageId, parseClientMessage, type ServerMessage } from "../query/protocol.js";
import { errorMessage, openQuerySession, type QuerySession, type SessionDeps } from "../query/session.js";
import { CLIENT_HINT_HEADERS } from "../enrich/user-agent.js";
import type { ClientFacts } from "./enrich.js";
import { bearerToken } from "./http.js";

interface Socket {
  readonly token: string;
  /** The sites this socket's token may read; none for a tracker's socket without a token. */
  readonly sites: ReadonlySet<string>;
  /** The client as seen at the upgrade, for events tracked over the socket. */
  readonly client: ClientFacts;
  closed: boolean;
  /** Set when the socket opens. */
  session: QuerySession | undefined;
}

// Beyond this many unsent bytes, subscriptions hold their next answer until the client catches up.
const LIVE_BACKPRESSURE_BYTES = 256 * 1024;

/** Events sent with `{"op":"track"}`: taken as a native /collect body. */
export type Track = (body: Buffer, client: ClientFacts) => Promise<{ accepted: number; ids: readonly string[]; rejected: readonly unknown[] }>;

/** The sites a query token may read; undefined when it is unknown or revoked. */
export type TokenCheck = (token: string) => readonly string[] | undefined;

export interface QuerySockets {
  readonly behavior: WebSocketBehavior<Socket>;
  /** Ends every open socket, e.g. when the server shuts down. */
  readonly closeAll: () => void;
}

/** `/ws`: one socket carries many queries at once, told apart by their ids; one query session per socket holds them. */
export const queryWebSocket = (deps: SessionDeps, tokenSites: TokenCheck, track: Track): QuerySockets => {
  const sockets = new Set<WebSocket<Socket>>();
  const behavior: WebSocketBehavior<Socket> = {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  // A client too slow to take its results is disconnected rather than silently sent fewer rows.
  maxBackpressure: 16 * 1024 * 1024,
  closeOnBackpressureLimit: 1,
  upgrade: (res, req, context) => {
    // A browser cannot set headers on a WebSocket, so the token may also come as ?token=.
    const token = bearerToken(req.getHeader("authorization")) || (new URLSearchParams(req.getQuery() ?? "").get("token") ?? "");
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
      { token, sites: new Set(sites), client, closed: false, session: undefined },
      req.getHeader("sec-websocket-key"),
      req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  },
  open: (ws) => {
    sockets.add(ws);
    const data = ws.getUserData();
    data.session = openQuerySession(deps, data.token, data.sites, {
      send: (m) => {
        if (!data.closed) ws.send(JSON.stringify(m));
      },
      backpressured: () => !data.closed && ws.getBufferedAmount() > LIVE_BACKPRESSURE_BYTES,
    });
  },
  drain: (ws) => {
    const data = ws.getUserData();
    if (ws.getBufferedAmount() <= LIVE_BACKPRESSURE_BYTES) data.session?.drained();
  },
  close: (ws) => {
    const data = ws.getUserData();
    data.closed = true;
    data.session?.close();
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
    if (msg.op === "track") {
      const { id } = msg;
      track(Buffer.from(JSON.stringify(msg.body)), data.client).then(
        (r) => send({ id, type: "tracked", ...r }),
        (e: unknown) => send(errorMessage(id, e)),
      );
      return;
    }
    data.session?.handle(msg);
  },
};
  return {
    behavior,
    closeAll: () => {
      for (const ws of [...sockets]) ws.end(1001, "server shutting down");
    },
  };
};
