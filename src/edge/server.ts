import uWS from "uWebSockets.js";
import { ConfigError } from "../core/errors.js";
import type { LiveQueries } from "../query/live/hub.js";
import { QueryLimits } from "../query/limits.js";
import type { QueryService } from "../query/service.js";
import { ingest, ingestRoute, type CollectDeps } from "./collect.js";
import { CORS_HEADERS, sendJson } from "./http.js";
import { homePage } from "./home-page.js";
import { ga4Protocol, gtagProtocol, nativeProtocol, plausibleProtocol, type Ga4Streams } from "./protocols/routes.js";
import { handleTrackerScript } from "./tracker/serve.js";
import { validateGa4 } from "./protocols/ga4.js";
import { readBody, sendError } from "./http.js";
import { reportRoute } from "./reports.js";
import { queryWebSocket, type TokenCheck } from "./ws.js";

export interface EdgeOptions extends CollectDeps {
  readonly host: string;
  readonly port: number;
  readonly queries: QueryService;
  /** Present where this process serves queries, i.e. owns the analytics store. */
  readonly live: LiveQueries | undefined;
  readonly maxQueriesPerToken: number;
  readonly isReady: () => boolean;
  /** Shown on the home page. */
  readonly sites: readonly string[];
  /** GA4 data streams by measurement id, for /mp/collect and /g/collect. */
  readonly ga4Streams: Ga4Streams;
  readonly tokenSites: TokenCheck;
}

export interface Edge {
  readonly port: number;
  /** Stops accepting connections; requests already received are still answered. */
  stopListening(): void;
  /** Closes every open WebSocket. */
  closeSockets(): void;
}

export const startEdge = (opts: EdgeOptions): Promise<Edge> => {
  const limits = new QueryLimits(opts.maxQueriesPerToken);
  const reports = { service: opts.queries, limits, tokenSites: opts.tokenSites, serves: opts.live !== undefined };
  const querySockets = queryWebSocket({ service: opts.queries, live: opts.live, limits }, opts.tokenSites, async (body, client) => {
    const { parsed } = await ingest(opts, nativeProtocol, body, { ...client, query: new URLSearchParams() });
    return { accepted: parsed.accepted.length, ids: parsed.accepted.map((e) => e.id), rejected: parsed.rejected };
  });
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
    .post("/collect", ingestRoute(opts, nativeProtocol))
    .post("/mp/collect", ingestRoute(opts, ga4Protocol(opts.ga4Streams)))
    .post("/debug/mp/collect", (res, req) => {
      // GA4's validation server: answers what is wrong, stores nothing.
      const reply = { res, aborted: false };
      res.onAborted(() => {
        reply.aborted = true;
      });
      const declared = Number(req.getHeader("content-length") || 0);
      readBody(reply, opts.maxBodyBytes, declared).then(
        (body) => sendJson(reply, 200, validateGa4(body)),
        (e: unknown) => sendError(reply, e),
      );
    })
    .get("/g/collect", ingestRoute(opts, gtagProtocol(opts.ga4Streams)))
    .post("/g/collect", ingestRoute(opts, gtagProtocol(opts.ga4Streams)))
    .post("/api/event", ingestRoute(opts, plausibleProtocol))
    .get("/pulse.js", handleTrackerScript())
    .post("/api/v1/reports:run", reportRoute(reports, "standard"))
    .post("/api/v1/reports:runRealtime", reportRoute(reports, "realtime"))
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
