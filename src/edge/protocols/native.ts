import type { EventProps, PulseEvent } from "../../core/event.js";
import { InvalidInput } from "../../core/errors.js";
import { derivedEventId } from "./common.js";
import { derivedVisitor } from "./visitor.js";

/** What the edge knows about a request besides its body. */
export interface RequestContext {
  readonly receivedAt: number;
  readonly ip: string;
  readonly userAgent: string;
  readonly visitorSalt: string;
  readonly nextSeq: () => number;
  readonly isKnownSite: (site: string) => boolean;
}

export interface Rejection {
  readonly index: number;
  readonly code: string;
  readonly message: string;
}

export interface ParsedBatch {
  readonly site: string;
  readonly accepted: readonly PulseEvent[];
  readonly rejected: readonly Rejection[];
}

export const MAX_EVENTS_PER_REQUEST = 1000;
const MAX_PROPS = 25;
const MAX_STRING = 2048;
// Events older than this are refused: they would land in a closed month and most likely come from a broken clock.
const MAX_AGE_MS = 400 * 24 * 3_600_000;
const MAX_FUTURE_MS = 3_600_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

class FieldError {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

const optionalString = (o: Json, field: string, max: number): string | undefined => {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new FieldError("invalid_field", `"${field}" must be a string`);
  if (v.length > max) throw new FieldError("field_too_long", `"${field}" is longer than ${max} characters`);
  return v;
};

const requiredString = (o: Json, field: string, max: number): string => {
  const v = optionalString(o, field, max);
  if (v === undefined || v === "") throw new FieldError("missing_field", `"${field}" is required`);
  return v;
};

const parseUrl = (raw: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FieldError("invalid_url", `"url" is not an absolute URL: ${JSON.stringify(raw.slice(0, 100))}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new FieldError("invalid_url", `"url" must be http or https`);
  return u.href;
};

// ISO 8601 with an explicit zone: without one, the server's own zone would decide what time it is.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

// Date.parse rolls 2026-02-30 over to 2 March; a real day survives a round trip.
const realDay = (iso: string): boolean => {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) === iso.slice(0, 10);
};

const parseTime = (o: Json, ctx: RequestContext): number | undefined => {
  const v = o["ts"];
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === "number" ? v : typeof v === "string" && ISO_TIME.test(v) && realDay(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw new FieldError("invalid_time", `"ts" must be epoch milliseconds or an ISO-8601 time with a zone`);
  if (ms > ctx.receivedAt + MAX_FUTURE_MS) throw new FieldError("time_in_future", `"ts" is more than an hour in the future`);
  if (ms < ctx.receivedAt - MAX_AGE_MS) throw new FieldError("time_too_old", `"ts" is more than 400 days in the past`);
  return Math.trunc(ms);
};

const parseProps = (o: Json): EventProps => {
  const v = o["props"];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new FieldError("invalid_field", `"props" must be an object`);
  const entries = Object.entries(v);
  if (entries.length > MAX_PROPS) throw new FieldError("too_many_props", `"props" has more than ${MAX_PROPS} keys`);
  const out: Record<string, string | number | boolean> = {};
  for (const [k, p] of entries) {
    if (k.length > 64) throw new FieldError("invalid_prop", `property name "${k.slice(0, 64)}…" is longer than 64 characters`);
    if (typeof p === "string") out[k] = p.slice(0, MAX_STRING);
    else if ((typeof p === "number" && Number.isFinite(p)) || typeof p === "boolean") out[k] = p;
    else throw new FieldError("invalid_prop", `property "${k}" must be a string, a finite number or a boolean`);
  }
  return out;
};

const parseEvent = (o: unknown, index: number, site: string, ctx: RequestContext): PulseEvent => {
  if (!isObject(o)) throw new FieldError("invalid_event", "an event must be a JSON object");
  const name = requiredString(o, "name", 128);
  const url = parseUrl(requiredString(o, "url", MAX_STRING));
  const referrer = optionalString(o, "referrer", MAX_STRING) ?? "";
  const clientTs = parseTime(o, ctx);
  const visitor =
    optionalString(o, "visitor", 128) ||
    // No client id: a salted hash of who is calling. The salt changes daily, so it cannot follow a person across days.
    derivedVisitor(site, ctx);
  const props = parseProps(o);
  const userId = optionalString(o, "user_id", 256);
  const seq = ctx.nextSeq();
  const ts = clientTs ?? ctx.receivedAt;
  const id =
    optionalString(o, "id", 128) ||
    // With a client time the derived id repeats when the same request is retried, so a retry is not counted twice.
    derivedEventId(site, visitor, name, url, ts, clientTs !== undefined, index, seq);
  return { id, site, visitor, name, ts, seq, receivedAt: ctx.receivedAt, url, referrer, props, ...(userId ? { userId } : {}) };
};

/**
 * Parses the native `POST /collect` body: one event, or `{site, events: [...]}`.
 * Problems with the request as a whole throw; problems with one event reject that event only.
 */
export const parseNativeCollect = (body: unknown, ctx: RequestContext): ParsedBatch => {
  if (!isObject(body)) throw new InvalidInput("invalid_body", "the body must be a JSON object");
  const site = body["site"];
  if (typeof site !== "string" || site === "") throw new InvalidInput("missing_site", `"site" is required`);
  if (!ctx.isKnownSite(site)) throw new InvalidInput("unknown_site", `site "${site.slice(0, 128)}" is not registered`, 404);
  const raw = body["events"];
  let list: readonly unknown[];
  if (raw === undefined) list = [body];
  else if (Array.isArray(raw)) list = raw;
  else throw new InvalidInput("invalid_events", `"events" must be an array`);
  if (list.length === 0) throw new InvalidInput("empty_batch", `"events" is empty`);
  if (list.length > MAX_EVENTS_PER_REQUEST)
    throw new InvalidInput("too_many_events", `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${list.length}`, 413);
  const accepted: PulseEvent[] = [];
  const rejected: Rejection[] = [];
  list.forEach((e, index) => {
    try {
      accepted.push(parseEvent(e, index, site, ctx));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      rejected.push({ index, code: err.code, message: err.message });
    }
  });
  return { site, accepted, rejected };
};
