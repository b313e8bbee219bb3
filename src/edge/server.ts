import uWS from "uWebSockets.js";
import { ConfigError } from "../core/errors.js";
import type { QueryService } from "../query/service.js";
import { handleCollect, type CollectDeps } from "./collect.js";
import { CORS_HEADERS, sendJson } from "./http.js";
import { homePage } from "./home-page.js";
import { queryWebSocket } from "./ws.js";

export interface EdgeOptions extends CollectDeps {
  readonly host: string;
  readonly port: number;
  readonly queries: QueryService;
  readonly isReady: () => boolean;
  /** Shown on the home page. */
  readonly sites: readonly string[];
}

export interface Edge {
  readonly port: number;
  /** Stops accepting connections; requests already received are still answered. */
  stopListening(): void;
  /** Closes every open WebSocket. */
  closeSockets(): void;
}

export const startEdge = (opts: EdgeOptions): Promise<Edge> => {
  const querySockets = queryWebSocket(opts.queries);
  const page = homePage(opts.sites);
  const app = uWS
    .App()
    .get("/", (res) => {
      res.cork(() => {
        res.writeHeader("Content-Type", "text/html; charset=utf-8").end(page);
      });
    })
    .get("/healthz", (res) => sendJson({ res, aborted: false }, 200, { status: "ok" }))
    .get("/readyz", (res) =>
      opts.isReady() ? sendJson({ res, aborted: false }, 200, { status: "ready" }) : sendJson({ res, aborted: false }, 503, { status: "not ready" }),
    )
    .options("/*", (res) => {
      res.cork(() => {
        res.writeStatus("204 No Content");
        for (const [k, v] of CORS_HEADERS) res.writeHeader(k, v);
        res.end();
      });
    })
    .post("/collect", handleCollect(opts))
    .ws("/ws", querySockets.behavior)
    .any("/*", (res, req) => {
      const path = req.getUrl();
      sendJson({ res, aborted: false }, 404, { error: { code: "not_found", message: `no route for ${req.getMethod().toUpperCase()} ${path}` } });
    });
  return new Promise((resolve, reject) => {
    app.listen(opts.host, opts.port, (token) => {
      if (!token) {
        reject(new ConfigError(`cannot listen on ${opts.host}:${opts.port} (in use, or not an address of this machine)`));
        return;
      }
      resolve({
        port: uWS.us_socket_local_port(token),
        stopListening: () => uWS.us_listen_socket_close(token),
        closeSockets: querySockets.closeAll,
      });
    });
  });
};
