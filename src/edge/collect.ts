import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { InvalidInput, Unavailable } from "../core/errors.js";
import type { PulseEvent } from "../core/event.js";
import { hostOf } from "../core/url.js";
import { CLIENT_HINT_HEADERS, type ClientHints } from "../enrich/user-agent.js";
import type { MicroBatcher, Receipt } from "./batcher.js";
import type { ClientFacts, Enricher } from "./enrich.js";
import type { SiteRateLimiter } from "./rate-limit.js";
import { readBody, sendError, sendJson, type Reply } from "./http.js";
import type { ParsedBatch, RequestContext } from "./protocols/native.js";

export interface CollectDeps {
  readonly batcher: MicroBatcher;
  readonly maxBodyBytes: number;
  readonly context: (ip: string, userAgent: string) => RequestContext;
  readonly enrich: Enricher;
  readonly isDraining: () => boolean;
  /** While Pulse is overloaded, the 503 (with Retry-After) that new ingest requests get instead of a place in an ever longer queue. */
  readonly refusal: () => Unavailable | undefined;
  /** Behind a proxy the client is the first X-Forwarded-For address; only trust it when the proxy sets it. */
  readonly trustProxy: boolean;
  readonly rateLimiter: SiteRateLimiter;
  /** Whether a site takes events from a page on this hostname. */
  readonly allowedHost: (site: string, hostname: string) => boolean;
}

/** What a tracker protocol contributes: how to read its request, and how its own clients expect to be answered. */
export interface IngestProtocol {
  /** False where a server sends for the visitor (GA4 Measurement Protocol): then the request's User-Agent and address are not the visitor's. */
  readonly fromVisitor: boolean;
  readonly parse: (body: Buffer, query: URLSearchParams, ctx: RequestContext) => ParsedBatch;
  readonly accepted: (reply: Reply, parsed: ParsedBatch, receipts: readonly Receipt[]) => void;
}

/** Pulse's own answer: 202 with ids, rejections and the PubAck receipts. */
export const answerWithReceipts = (reply: Reply, parsed: ParsedBatch, receipts: readonly Receipt[]): void =>
  sendJson(reply, 202, { accepted: parsed.accepted.length, ids: parsed.accepted.map((e) => e.id), rejected: parsed.rejected, receipts });

/** What the edge learns from a request before reading its body. */
export interface Caller extends ClientFacts {
  readonly query: URLSearchParams;
}

/**
 * Takes one request's events: parse, enrich, check hostnames and the site's rate, then hand
 * them to the batcher. Resolves once JetStream has stored every batch holding them.
 */
export const ingest = async (deps: CollectDeps, protocol: IngestProtocol, body: Buffer, caller: Caller): Promise<{ parsed: ParsedBatch; receipts: Receipt[] }> => {
  const raw = protocol.parse(body, caller.query, deps.context(caller.ip, caller.userAgent));
  const parsed = onAllowedHosts(protocol.fromVisitor ? deps.enrich(raw, caller) : raw, deps.allowedHost);
  if (parsed.accepted.length === 0) throw new NoValidEvents(parsed);
  deps.rateLimiter.take(parsed.site, parsed.accepted.length);
  return { parsed, receipts: await deps.batcher.add(parsed.accepted) };
};

/** A request none of whose events is valid; carries each event's reason. */
export class NoValidEvents extends InvalidInput {
  constructor(readonly parsed: ParsedBatch) {
    super("no_valid_events", "no event in the request is valid");
  }
}

/**
 * An ingestion route. Whatever the protocol, a 2xx goes out only once JetStream has stored
 * every batch holding the request's events; a request with no valid event gets a 400 naming
 * each problem.
 */
export const ingestRoute =
  (deps: CollectDeps, protocol: IngestProtocol) =>
  (res: HttpResponse, req: HttpRequest): void => {
    const reply: Reply = { res, aborted: false };
    res.onAborted(() => {
      reply.aborted = true;
    });
    // Request data is only readable synchronously, before the first await.
    const forwarded = deps.trustProxy ? req.getHeader("x-forwarded-for").split(",")[0]?.trim() : "";
    const ip = forwarded || Buffer.from(res.getRemoteAddressAsText()).toString();
    const userAgent = req.getHeader("user-agent");
    const hints: Record<string, string> = {};
    for (const h of CLIENT_HINT_HEADERS) hints[h] = req.getHeader(h);
    const declared = Number(req.getHeader("content-length") || 0);
    const query = new URLSearchParams(req.getQuery() ?? "");
    const isGet = req.getMethod() === "get";
    void (async () => {
      try {
        if (deps.isDraining()) throw new Unavailable("draining", "this server is shutting down; retry on another", 1);
        // Checked once, on arrival: a request let in is carried through even if shedding starts meanwhile.
        const refusal = deps.refusal();
        if (refusal) throw refusal;
        const body = isGet ? Buffer.alloc(0) : await readBody(reply, deps.maxBodyBytes, declared);
        const { parsed, receipts } = await ingest(deps, protocol, body, { ip, userAgent, hints: hints as ClientHints, query });
        protocol.accepted(reply, parsed, receipts);
      } catch (e) {
        if (e instanceof NoValidEvents) sendJson(reply, 400, { error: { code: e.code, message: e.message }, rejected: e.parsed.rejected });
        else sendError(reply, e);
      }
    })();
  };


/** Keeps the events from pages on the site's allowed hostnames; the others are rejected with the reason. */
const onAllowedHosts = (batch: ParsedBatch, allowed: (site: string, host: string) => boolean): ParsedBatch => {
  const accepted: PulseEvent[] = [];
  const rejected = [...batch.rejected];
  for (const e of batch.accepted) {
    const host = hostOf(e.url);
    if (allowed(e.site, host)) accepted.push(e);
    else rejected.push({ index: -1, code: "hostname_not_allowed", message: `site "${e.site}" does not take events from ${host || "that url"}` });
  }
  return accepted.length === batch.accepted.length ? batch : { site: batch.site, accepted, rejected };
};

export const requireBody = (body: Buffer): Buffer => {
  if (body.length === 0) throw new InvalidInput("empty_body", "the body is empty");
  return body;
};
