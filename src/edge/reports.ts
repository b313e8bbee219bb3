import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { InvalidInput, Unavailable } from "../core/errors.js";
import type { QueryLimits } from "../query/limits.js";
import { parseReportSpec } from "../query/report.js";
import type { QueryService } from "../query/service.js";
import { bearerToken, parseJson, readBody, sendError, sendJson, type Reply } from "./http.js";
import type { TokenCheck } from "./ws.js";

export interface ReportRouteDeps {
  readonly service: QueryService;
  readonly limits: QueryLimits;
  readonly tokenSites: TokenCheck;
  /** False in a process without the store role: it answers 503 and names no other process. */
  readonly serves: boolean;
}

// A report spec is small; the same bound as a /ws message.
const MAX_SPEC_BYTES = 64 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `POST /api/v1/reports:run` and `:runRealtime`: the /ws reports for clients without WebSockets,
 * one whole answer per request. `kind` marks which report family the body is a spec of.
 */
export const reportRoute =
  (deps: ReportRouteDeps, kind: "standard" | "realtime") =>
  (res: HttpResponse, req: HttpRequest): void => {
    const reply: Reply = { res, aborted: false };
    res.onAborted(() => {
      reply.aborted = true;
    });
    const token = bearerToken(req.getHeader("authorization"));
    const declared = Number(req.getHeader("content-length") || 0);
    const sites = token === "" ? undefined : deps.tokenSites(token);
    if (!sites) {
      sendJson(reply, 401, { error: { code: "unauthorized", message: "a valid query token is required (Authorization: Bearer)" } }, [["WWW-Authenticate", "Bearer"]]);
      return;
    }
    readBody(reply, MAX_SPEC_BYTES, declared)
      .then(async (body) => {
        const raw = parseJson(body);
        const site = isObject(raw) ? raw["site"] : undefined;
        // Checked before the spec itself, and the same answer whether or not the site exists.
        if (typeof site === "string" && !sites.includes(site)) throw new InvalidInput("forbidden", `this token may not read site "${site.slice(0, 128)}"`, 403);
        const spec = parseReportSpec(kind === "realtime" && isObject(raw) ? { ...raw, kind } : raw);
        if (!deps.serves) throw new Unavailable("not_serving", "this process does not serve queries; ask the process that runs the store role", 0);
        deps.limits.acquire(token);
        try {
          const answer = await deps.service.compute(spec);
          sendJson(reply, 200, {
            columns: answer.columns,
            dimensionHeaders: answer.dimensionHeaders,
            metricHeaders: answer.metricHeaders,
            rows: answer.rows,
            rowCount: answer.rowCount,
            ...(answer.totals ? { totals: answer.totals } : {}),
            elapsedMs: answer.elapsedMs,
          });
        } finally {
          deps.limits.release(token);
        }
      })
      .catch((e: unknown) => sendError(reply, e));
  };
