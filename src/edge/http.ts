import type { HttpResponse } from "uWebSockets.js";
import { InvalidInput, StoreError, Unavailable } from "../core/errors.js";

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "200 OK",
  202: "202 Accepted",
  204: "204 No Content",
  400: "400 Bad Request",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  413: "413 Payload Too Large",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** A response that may be answered later, after the client might have gone away. */
export interface Reply {
  aborted: boolean;
  readonly res: HttpResponse;
}

export const CORS_HEADERS: readonly (readonly [string, string])[] = [
  ["Access-Control-Allow-Origin", "*"],
  ["Access-Control-Allow-Methods", "GET, POST, OPTIONS"],
  ["Access-Control-Allow-Headers", "Content-Type"],
];

/** The token of an `Authorization: Bearer <token>` header; empty when there is none. */
export const bearerToken = (authorization: string): string => /^Bearer (.+)$/.exec(authorization)?.[1] ?? "";

export const sendJson = (reply: Reply, status: number, body: unknown, headers: readonly (readonly [string, string])[] = []): void => {
  if (reply.aborted) return;
  reply.res.cork(() => {
    reply.res.writeStatus(STATUS_TEXT[status] ?? String(status));
    reply.res.writeHeader("Content-Type", "application/json");
    // Two loops rather than one over a spread copy: this runs for every request.
    for (const [k, v] of CORS_HEADERS) reply.res.writeHeader(k, v);
    for (const [k, v] of headers) reply.res.writeHeader(k, v);
    // After a refused oversized body the rest of it is still on the wire; closing is cheaper than reading it.
    reply.res.end(JSON.stringify(body), status === 413);
  });
  reply.aborted = true;
};

export const sendNoContent = (reply: Reply): void => {
  if (reply.aborted) return;
  reply.res.cork(() => {
    reply.res.writeStatus("204 No Content");
    for (const [k, v] of CORS_HEADERS) reply.res.writeHeader(k, v);
    reply.res.end();
  });
  reply.aborted = true;
};

// Limits on the caller, not on Pulse: 429 rather than 503.
const TOO_MANY: ReadonlySet<string> = new Set(["rate_limited", "too_many_queries"]);

/** The one place where errors become HTTP statuses. */
export const sendError = (reply: Reply, e: unknown): void => {
  if (e instanceof InvalidInput) sendJson(reply, e.status, { error: { code: e.code, message: e.message } });
  else if (e instanceof Unavailable)
    sendJson(reply, TOO_MANY.has(e.code) ? 429 : 503, { error: { code: e.code, message: e.message } }, [["Retry-After", String(e.retryAfterSeconds)]]);
  // Store errors reaching the edge come from reports, whose messages quote no SQL (see QueryService).
  else if (e instanceof StoreError && e.retryable) sendJson(reply, 503, { error: { code: "unavailable", message: e.message } }, [["Retry-After", "1"]]);
  else if (e instanceof StoreError) sendJson(reply, 500, { error: { code: "query_failed", message: e.message } });
  else sendJson(reply, 500, { error: { code: "internal", message: "internal error" } });
};

/**
 * Collects a request body up to `limit` bytes. Bodies announced or found to be larger
 * are refused without buffering the rest.
 */
export const readBody = (reply: Reply, limit: number, declaredLength: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    if (declaredLength > limit) {
      reject(new InvalidInput("body_too_large", `the body is ${declaredLength} bytes; the limit is ${limit}`, 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    reply.res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(new InvalidInput("body_too_large", `the body is over the limit of ${limit} bytes`, 413));
        return;
      }
      // uWS reuses the chunk's memory after this callback returns, so it must be copied.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });

export const parseJson = (body: Buffer): unknown => {
  if (body.length === 0) throw new InvalidInput("empty_body", "the body is empty");
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new InvalidInput("invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
};
