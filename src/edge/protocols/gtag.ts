import { PAGEVIEW, type PulseEvent } from "../../core/event.js";
import { InvalidInput } from "../../core/errors.js";
import { stableId } from "../../core/hash.js";
import { bodyText, chars, clip, derivedEventId, EventProblem, httpUrl, siteRootUrl, type Scalar } from "./common.js";
import { MAX_EVENTS_PER_REQUEST, type ParsedBatch, type Rejection, type RequestContext } from "./native.js";

/**
 * gtag.js hits: `GET|POST /g/collect?v=2&tid=G-…&cid=…&en=page_view&dl=…`. A POST body may carry
 * several hits, one per line, each a query string whose parameters override or extend those of
 * the URL (gtag puts what its hits share in the URL and each event in a line).
 *
 * Parameters used: v (must be 2), tid (measurement id), cid (client id, the visitor), en (event
 * name), dl/dr/dt (page location, referrer, title), uid, sid, sct, seg, _et, ul, sr, _ss, _fv, cu,
 * ep.* (string event parameters), epn.* (numeric ones), up.* and upn.* (user properties), and _p/_s
 * (page load id, hit counter) for the event id. Others (gtm, _z, items, consent flags…) are ignored.
 */

const MAX_PARAMS = 25;
const MAX_NAME = 40;
const MAX_USER_PROPERTY_NAME = 24;
// Google cuts longer values rather than dropping the hit: so do we.
const MAX_PARAM_VALUE = 100;
const MAX_USER_PROPERTY_VALUE = 36;
const MAX_TITLE = 300;
const MAX_STRING = 2048;
const MAX_ID = 128;
const NAME_PATTERN = /^\p{L}[\p{L}\p{N}_]*$/u;

type Hit = ReadonlyMap<string, string>;

const toMap = (params: URLSearchParams, into = new Map<string, string>()): Map<string, string> => {
  // A parameter repeated within one query string: the last one wins.
  for (const [k, v] of params) into.set(k, v);
  return into;
};

const truncate = (s: string, max: number): string => (chars(s) > max ? [...s].slice(0, max).join("") : s);

const checkName = (name: string, max: number, what: string): void => {
  if (chars(name) > max || !NAME_PATTERN.test(name))
    throw new EventProblem(
      "invalid_param",
      `${what} ${JSON.stringify(clip(name))} must start with a letter, hold only letters, digits and underscores, and be at most ${max} characters`,
    );
};

const numberOf = (raw: string, what: string, code = "invalid_param"): number => {
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(n)) throw new EventProblem(code, `${what} must be a number, got ${JSON.stringify(clip(raw))}`);
  return n;
};

const bounded = (hit: Hit, key: string, max: number): string | undefined => {
  const v = hit.get(key);
  if (v !== undefined && v.length > max) throw new EventProblem("field_too_long", `"${key}" is longer than ${max} characters`);
  return v;
};

/** Event parameters and user properties: `ep.x`, `epn.x`, `up.x`, `upn.x`. */
const customProps = (hit: Hit): Record<string, Scalar> => {
  const params: Record<string, Scalar> = {};
  const user: Record<string, Scalar> = {};
  let count = 0;
  for (const [k, v] of hit) {
    const dot = k.indexOf(".");
    if (dot < 0) continue;
    const kind = k.slice(0, dot);
    const name = k.slice(dot + 1);
    if (kind === "ep" || kind === "epn") {
      checkName(name, MAX_NAME, "event parameter");
      if (name in params) throw new EventProblem("duplicate_param", `event parameter "${name}" is sent both as ep.${name} and epn.${name}`);
      params[name] = kind === "ep" ? truncate(v, MAX_PARAM_VALUE) : numberOf(v, `"${k}"`);
      count++;
    } else if (kind === "up" || kind === "upn") {
      checkName(name, MAX_USER_PROPERTY_NAME, "user property");
      const key = `up_${name}`;
      if (key in user) throw new EventProblem("duplicate_param", `user property "${name}" is sent both as up.${name} and upn.${name}`);
      user[key] = kind === "up" ? truncate(v, MAX_USER_PROPERTY_VALUE) : numberOf(v, `"${k}"`);
    }
  }
  if (count > MAX_PARAMS) throw new EventProblem("too_many_params", `the event has ${count} parameters; the limit is ${MAX_PARAMS}`);
  return { ...params, ...user };
};

/** gtag's own parameters, under the names Pulse reports them by. */
const reservedProps = (hit: Hit): Record<string, Scalar> => {
  const props: Record<string, Scalar> = {};
  const sid = bounded(hit, "sid", MAX_ID);
  if (sid) props["ga_session_id"] = sid;
  const sct = hit.get("sct");
  if (sct !== undefined) {
    const n = numberOf(sct, `"sct"`, "invalid_field");
    if (!Number.isInteger(n) || n < 0) throw new EventProblem("invalid_field", `"sct" must be a session count`);
    props["ga_session_number"] = n;
  }
  const seg = hit.get("seg");
  if (seg !== undefined) {
    if (seg !== "0" && seg !== "1") throw new EventProblem("invalid_field", `"seg" must be 0 or 1`);
    props["ga_session_engaged"] = seg === "1";
  }
  const et = hit.get("_et");
  if (et !== undefined) {
    const n = numberOf(et, `"_et"`, "invalid_field");
    if (n < 0) throw new EventProblem("invalid_field", `"_et" must not be negative`);
    props["engagement_time_msec"] = n;
  }
  const dt = hit.get("dt");
  if (dt) props["page_title"] = truncate(dt, MAX_TITLE);
  const uid = bounded(hit, "uid", 256);
  if (uid) props["user_id"] = uid;
  const ul = bounded(hit, "ul", MAX_ID);
  if (ul) props["language"] = ul;
  const sr = bounded(hit, "sr", MAX_ID);
  if (sr) props["screen_resolution"] = sr;
  const cu = bounded(hit, "cu", MAX_ID);
  if (cu) props["currency"] = cu;
  if (hit.has("_ss")) props["session_start"] = true;
  if (hit.has("_fv")) props["first_visit"] = true;
  return props;
};

const parseHit = (
  hit: Hit,
  index: number,
  site: string,
  resolveSite: (tid: string) => string | undefined,
  ctx: RequestContext,
): PulseEvent => {
  const v = hit.get("v");
  if (v !== "2") throw new EventProblem("unsupported_version", `"v" must be 2, got ${v === undefined ? "none" : JSON.stringify(clip(v))}`);
  const tid = hit.get("tid");
  if (!tid) throw new EventProblem("missing_field", `"tid" is required`);
  if (resolveSite(tid) !== site) throw new EventProblem("site_mismatch", `"tid" ${JSON.stringify(clip(tid))} is not the request's measurement id`);
  const visitor = bounded(hit, "cid", MAX_ID);
  if (!visitor) throw new EventProblem("missing_field", `"cid" is required`);
  const en = hit.get("en");
  if (!en) throw new EventProblem("missing_field", `"en" is required`);
  if (chars(en) > MAX_NAME || !NAME_PATTERN.test(en))
    throw new EventProblem(
      "invalid_name",
      `"en" ${JSON.stringify(clip(en))} must start with a letter, hold only letters, digits and underscores, and be at most ${MAX_NAME} characters`,
    );
  const name = en === "page_view" ? PAGEVIEW : en;
  const dl = bounded(hit, "dl", MAX_STRING);
  let url: string | undefined;
  if (dl) {
    url = httpUrl(dl);
    if (url === undefined) throw new EventProblem("invalid_url", `"dl" is not an absolute http or https URL: ${JSON.stringify(clip(dl, 100))}`);
  } else {
    // gtag always sends the page location; a hand-made hit without one gets the site's root URL,
    // as a GA4 Measurement Protocol event without page_location does.
    url = siteRootUrl(site);
    if (url === undefined) throw new EventProblem("missing_field", `"dl" is required: site "${site}" is not a host name`);
  }
  const referrer = bounded(hit, "dr", MAX_STRING) ?? "";
  const props = { ...customProps(hit), ...reservedProps(hit) };
  const seq = ctx.nextSeq();
  const ts = ctx.receivedAt;
  const pageLoad = hit.get("_p");
  const hitCount = hit.get("_s");
  // gtag sends no event time, but a page load id and a hit counter: with both, a retried request
  // gives the same ids (so it is not counted twice); without them the receive sequence is used.
  const id =
    pageLoad && hitCount
      ? stableId("gtag", site, visitor, pageLoad, hitCount, index, name)
      : derivedEventId(site, visitor, name, url, ts, false, index, seq);
  return { id, site, visitor, name, ts, seq, receivedAt: ctx.receivedAt, url, referrer, props };
};

/**
 * Parses a `/g/collect` request: `query` is the URL's query string, `body` the POST body (empty or
 * undefined for a GET), `resolveSite` maps a measurement id (`tid`) to a site id. The request's
 * measurement id is the URL's `tid`, else the first one a line carries; an unknown one refuses the
 * request. Problems with one hit (v≠2, no cid or en, a bad parameter) reject that hit only.
 */
export const parseGtagCollect = (
  query: URLSearchParams,
  body: string | Uint8Array | undefined,
  resolveSite: (tid: string) => string | undefined,
  ctx: RequestContext,
): ParsedBatch => {
  const base = toMap(query);
  const lines = (body === undefined ? "" : bodyText(body))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const hits: Hit[] = lines.length === 0 ? [base] : lines.map((l) => toMap(new URLSearchParams(l), new Map(base)));
  if (hits.length > MAX_EVENTS_PER_REQUEST)
    throw new InvalidInput("too_many_events", `at most ${MAX_EVENTS_PER_REQUEST} hits per request, got ${hits.length}`, 413);
  const tid = base.get("tid") || hits.map((h) => h.get("tid")).find((t) => t);
  if (!tid) throw new InvalidInput("missing_tid", `"tid" (the measurement id) is required`);
  const site = resolveSite(tid);
  if (site === undefined || !ctx.isKnownSite(site))
    throw new InvalidInput("unknown_site", `measurement id "${clip(tid, 128)}" is not registered`, 404);
  const accepted: PulseEvent[] = [];
  const rejected: Rejection[] = [];
  hits.forEach((hit, index) => {
    try {
      accepted.push(parseHit(hit, index, site, resolveSite, ctx));
    } catch (err) {
      if (!(err instanceof EventProblem)) throw err;
      rejected.push({ index, code: err.code, message: err.message });
    }
  });
  return { site, accepted, rejected };
};
