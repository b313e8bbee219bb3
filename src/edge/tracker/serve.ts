import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, constants as zlib } from "node:zlib";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { ConfigError } from "../../core/errors.js";
import { CORS_HEADERS } from "../http.js";

export interface TrackerScript {
  readonly body: Buffer;
  readonly gzipped: Buffer;
  /** Weak: the plain and the gzipped body are the same script, so one validator serves both. */
  readonly etag: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Where pulse.js may be: beside this module (src/edge/tracker/ under vitest, or dist/ where the
 * file was copied next to the compiled module), else the source tree above dist/src/edge/tracker/.
 */
export const TRACKER_CANDIDATES: readonly string[] = [join(here, "pulse.js"), join(here, "..", "..", "..", "..", "src", "edge", "tracker", "pulse.js")];

let cached: TrackerScript | undefined;

/** The tracker, read and compressed once per process. Throws a ConfigError naming the paths tried when it cannot be found. */
export const trackerScript = (): TrackerScript => {
  if (cached) return cached;
  let body: Buffer | undefined;
  for (const path of TRACKER_CANDIDATES) {
    try {
      body = readFileSync(path);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  if (!body) throw new ConfigError(`the tracker script pulse.js is missing; looked in ${TRACKER_CANDIDATES.join(", ")}`);
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
  cached = { body, gzipped: gzipSync(body, { level: zlib.Z_BEST_COMPRESSION }), etag: `W/"${hash}"` };
  return cached;
};

/** Whether an Accept-Encoding header admits gzip: listed (or `*`) with a q-value above 0, and not refused by name. */
export const acceptsGzip = (header: string): boolean => {
  let gzip: boolean | undefined;
  let star = false;
  for (const part of header.toLowerCase().split(",")) {
    const [coding = "", ...params] = part.split(";").map((s) => s.trim());
    const q = params.find((p) => p.startsWith("q="));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (coding === "gzip" || coding === "x-gzip") gzip = ok;
    else if (coding === "*") star = ok;
  }
  return gzip ?? star;
};

/** If-None-Match with weak comparison (RFC 9110 13.1.2): `*`, or any listed tag equal to ours once `W/` is dropped. */
export const etagMatches = (ifNoneMatch: string, etag: string): boolean => {
  if (ifNoneMatch === "") return false;
  const opaque = (t: string): string => t.trim().replace(/^W\//, "");
  const ours = opaque(etag);
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === ours);
};

/**
 * `GET /pulse.js`: the browser tracker, cacheable for an hour, gzipped when the
 * client accepts it, `304` when its ETag matches. Reads the script when the route is created,
 * so a missing file stops startup instead of failing the first visitor.
 */
export const handleTrackerScript = (script: TrackerScript = trackerScript()) => (res: HttpResponse, req: HttpRequest): void => {
  // Request data is only readable synchronously, inside the handler.
  const gzip = acceptsGzip(req.getHeader("accept-encoding"));
  const notModified = etagMatches(req.getHeader("if-none-match"), script.etag);
  const body = gzip ? script.gzipped : script.body;
  res.cork(() => {
    res.writeStatus(notModified ? "304 Not Modified" : "200 OK");
    for (const [k, v] of CORS_HEADERS) res.writeHeader(k, v);
    res.writeHeader("Cache-Control", "public, max-age=3600");
    res.writeHeader("ETag", script.etag);
    res.writeHeader("Vary", "Accept-Encoding");
    // Pages that require CORP for their subresources (COEP) may still load it.
    res.writeHeader("Cross-Origin-Resource-Policy", "cross-origin");
    if (notModified) {
      res.endWithoutBody();
      return;
    }
    res.writeHeader("Content-Type", "application/javascript; charset=utf-8");
    res.writeHeader("X-Content-Type-Options", "nosniff");
    if (gzip) res.writeHeader("Content-Encoding", "gzip");
    res.end(body);
  });
};
