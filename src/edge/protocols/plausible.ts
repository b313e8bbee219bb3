import type { PulseEvent } from "../../core/event.js";
import { InvalidInput } from "../../core/errors.js";
import { bodyText, chars, clip, derivedEventId, EventProblem, isObject, utf8Bytes, type Json, type Scalar } from "./common.js";
import type { ParsedBatch, Rejection, RequestContext } from "./native.js";
import { derivedVisitor } from "./visitor.js";

/**
 * Plausible's `POST /api/event`: one event as JSON, sent as application/json by the Events API and
 * as text/plain by Plausible's tracker. Fields, short form (the tracker's) or long form (the Events
 * API's); where a body holds both, the short one wins:
 *   n/name (required; "pageview" is a page view), u/url (required), d/domain (required: the site),
 *   r/referrer, p/props (also m/meta; an object, or that object as a JSON string),
 *   revenue/$ ({currency, amount}), i/interactive (boolean), h/hash (accepted, ignored),
 *   e and sd on the tracker's "engagement" events (engagement time, scroll depth).
 * Plausible has no client or event ids: the visitor and the event id are derived as for native.
 */

// Plausible's own limits on what it records.
const MAX_NAME = 120;
const MAX_URL_BYTES = 2000;
const MAX_REFERRER_BYTES = 2000;
const MAX_PROPS = 30;
const MAX_PROP_KEY_BYTES = 300;
const MAX_PROP_VALUE_BYTES = 2000;

const pick = (o: Json, ...keys: readonly string[]): unknown => {
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
};

/** An object, or an object given as a JSON string (the tracker's older form). */
const objectField = (v: unknown, what: string, code: string): Json | undefined => {
  if (v === undefined) return undefined;
  let o = v;
  if (typeof v === "string") {
    try {
      o = JSON.parse(v);
    } catch {
      throw new EventProblem(code, `"${what}" is a string but not a JSON object`);
    }
  }
  if (!isObject(o)) throw new EventProblem(code, `"${what}" must be an object`);
  return o;
};

const parseName = (o: Json): string => {
  const v = pick(o, "n", "name");
  if (v === undefined || v === "") throw new EventProblem("missing_field", `"name" is required`);
  if (typeof v !== "string") throw new EventProblem("invalid_field", `"name" must be a string`);
  if (v.trim() === "") throw new EventProblem("missing_field", `"name" must not be blank`);
  if (chars(v) > MAX_NAME) throw new EventProblem("field_too_long", `"name" is longer than ${MAX_NAME} characters`);
  return v;
};

// Any absolute URL: Plausible's docs suggest made-up ones such as app://localhost/login for apps.
// data: and javascript: URLs are refused: they are never a page, and would be a hazard as links.
const parseUrl = (o: Json): string => {
  const v = pick(o, "u", "url");
  if (v === undefined || v === "") throw new EventProblem("missing_field", `"url" is required`);
  if (typeof v !== "string") throw new EventProblem("invalid_field", `"url" must be a string`);
  if (utf8Bytes(v) > MAX_URL_BYTES) throw new EventProblem("field_too_long", `"url" is longer than ${MAX_URL_BYTES} bytes`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new EventProblem("invalid_url", `"url" is not an absolute URL: ${JSON.stringify(clip(v, 100))}`);
  }
  if (u.protocol === "data:" || u.protocol === "javascript:") throw new EventProblem("invalid_url", `"url" must not be a ${u.protocol} URL`);
  return u.href;
};

const parseReferrer = (o: Json): string => {
  const v = pick(o, "r", "referrer");
  if (v === undefined) return "";
  if (typeof v !== "string") throw new EventProblem("invalid_field", `"referrer" must be a string`);
  if (utf8Bytes(v) > MAX_REFERRER_BYTES) throw new EventProblem("field_too_long", `"referrer" is longer than ${MAX_REFERRER_BYTES} bytes`);
  return v;
};

const parseProps = (o: Json): Record<string, Scalar> => {
  const p = objectField(pick(o, "p", "props", "m", "meta"), "props", "invalid_field");
  if (p === undefined) return {};
  const entries = Object.entries(p);
  if (entries.length > MAX_PROPS) throw new EventProblem("too_many_props", `"props" has ${entries.length} keys; the limit is ${MAX_PROPS}`);
  const out: Record<string, Scalar> = {};
  for (const [k, v] of entries) {
    if (utf8Bytes(k) > MAX_PROP_KEY_BYTES) throw new EventProblem("invalid_prop", `property name "${clip(k)}" is longer than ${MAX_PROP_KEY_BYTES} bytes`);
    if (typeof v === "string") {
      if (utf8Bytes(v) > MAX_PROP_VALUE_BYTES) throw new EventProblem("invalid_prop", `property "${clip(k)}" is longer than ${MAX_PROP_VALUE_BYTES} bytes`);
      out[k] = v;
    } else if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "boolean") out[k] = v;
    // Plausible drops lists, maps and nulls from props and records the rest: so does Pulse.
  }
  return out;
};

const parseRevenue = (o: Json): Record<string, Scalar> => {
  const r = objectField(pick(o, "$", "revenue"), "revenue", "invalid_revenue");
  if (r === undefined) return {};
  const currency = r["currency"];
  if (typeof currency !== "string" || !/^[A-Za-z]{3}$/.test(currency))
    throw new EventProblem("invalid_revenue", `"revenue.currency" must be a three-letter ISO 4217 code`);
  const raw = r["amount"];
  const amount = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (!Number.isFinite(amount)) throw new EventProblem("invalid_revenue", `"revenue.amount" must be a number or a numeric string`);
  return { revenue_amount: amount, revenue_currency: currency.toUpperCase() };
};

const parseFlags = (o: Json): Record<string, Scalar> => {
  const out: Record<string, Scalar> = {};
  const interactive = pick(o, "i", "interactive");
  if (typeof interactive === "boolean") out["interactive"] = interactive;
  else if (interactive !== undefined) throw new EventProblem("invalid_field", `"interactive" must be a boolean`);
  // The tracker's "engagement" events: time on page in ms and scroll depth in percent.
  const e = o["e"];
  if (typeof e === "number" && Number.isFinite(e)) out["engagement_time_msec"] = e;
  const sd = o["sd"];
  if (typeof sd === "number" && Number.isFinite(sd)) out["scroll_depth"] = sd;
  // `h` (hash mode) is accepted and ignored: the URL is kept as sent, fragment included.
  return out;
};

const parseEvent = (o: Json, site: string, ctx: RequestContext): PulseEvent => {
  const name = parseName(o);
  const url = parseUrl(o);
  const referrer = parseReferrer(o);
  const props = { ...parseProps(o), ...parseRevenue(o), ...parseFlags(o) };
  const visitor = derivedVisitor(site, ctx);
  const seq = ctx.nextSeq();
  const ts = ctx.receivedAt;
  return {
    id: derivedEventId(site, visitor, name, url, ts, false, 0, seq),
    site,
    visitor,
    name,
    ts,
    seq,
    receivedAt: ctx.receivedAt,
    url,
    referrer,
    props,
  };
};

/**
 * The site a Plausible event is for. Plausible's `domain` may list several sites separated by
 * commas (the tracker sends one event for all of them); Pulse stores an event once, for the first.
 */
const siteOf = (o: Json): string => {
  const d = pick(o, "d", "domain");
  if (d === undefined || d === "") throw new InvalidInput("missing_domain", `"domain" is required`);
  if (typeof d !== "string") throw new InvalidInput("invalid_domain", `"domain" must be a string`);
  const first = d.split(",")[0]?.trim() ?? "";
  if (first === "") throw new InvalidInput("missing_domain", `"domain" names no site`);
  return first;
};

/**
 * Parses a Plausible `POST /api/event` body: a string or bytes hold JSON text (the tracker sends
 * text/plain), anything else is taken as the parsed JSON. A bad body or domain throws; a bad event
 * is returned as the request's one rejection.
 */
export const parsePlausibleEvent = (body: unknown, ctx: RequestContext): ParsedBatch => {
  let o = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    const text = bodyText(body);
    if (text.trim() === "") throw new InvalidInput("empty_body", "the body is empty");
    try {
      o = JSON.parse(text);
    } catch {
      throw new InvalidInput("invalid_body", "the body is not valid JSON");
    }
  }
  if (!isObject(o)) throw new InvalidInput("invalid_body", "the body must be a JSON object");
  const site = siteOf(o);
  if (!ctx.isKnownSite(site)) throw new InvalidInput("unknown_site", `site "${clip(site, 128)}" is not registered`, 404);
  const accepted: PulseEvent[] = [];
  const rejected: Rejection[] = [];
  try {
    accepted.push(parseEvent(o, site, ctx));
  } catch (err) {
    if (!(err instanceof EventProblem)) throw err;
    rejected.push({ index: 0, code: err.code, message: err.message });
  }
  return { site, accepted, rejected };
};
