import { PAGEVIEW, type PulseEvent } from "../../core/event.js";
import { InvalidInput } from "../../core/errors.js";
import { bodyText, chars, clip, derivedEventId, httpUrl, isObject, MAX_FUTURE_MS, siteRootUrl, utf8Bytes, type Json, type Scalar } from "./common.js";
import type { ParsedBatch, Rejection, RequestContext } from "./native.js";

/**
 * GA4 Measurement Protocol: `POST /mp/collect?measurement_id=…&api_secret=…` with a JSON body
 * `{client_id, user_id?, timestamp_micros?, user_properties?, non_personalized_ads?, consent?, events: [{name, params?, timestamp_micros?}]}`,
 * and `POST /debug/mp/collect`, which answers `validateGa4`'s messages instead of storing anything.
 *
 * Google answers 2xx to every /mp/collect request and drops what is invalid without a word; Pulse
 * instead refuses a bad request as a whole, or rejects the bad events with their reasons and keeps
 * the rest. What counts as invalid is the same for both endpoints: one inspection feeds both.
 */

/** GA4's documented Measurement Protocol limits (standard, non-360 properties). */
export const GA4_LIMITS = {
  maxEvents: 25,
  maxParams: 25,
  maxUserProperties: 25,
  maxEventNameLength: 40,
  maxParamNameLength: 40,
  maxParamValueLength: 100,
  maxUserPropertyNameLength: 24,
  maxUserPropertyValueLength: 36,
  // "The post body must be smaller than 130kB": read as 130,000 bytes, the body may be exactly that.
  maxBodyBytes: 130_000,
  maxItems: 200,
  maxItemCustomParams: 10,
  // Events may be backdated by up to 72 hours.
  maxBackdateMs: 72 * 3_600_000,
} as const;

// GA4 collects these page parameters with longer limits than the 100 characters of other parameters.
const PARAM_VALUE_LIMITS: Readonly<Record<string, number>> = { page_location: 1000, page_referrer: 420, page_title: 300 };

// Not GA4 limits: Pulse's own bounds on ids, as native.ts has for `visitor`.
const MAX_CLIENT_ID = 128;
const MAX_USER_ID = 256;

export const GA4_RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([
  "ad_activeview",
  "ad_click",
  "ad_exposure",
  "ad_query",
  "ad_reward",
  "adunit_exposure",
  "app_background",
  "app_clear_data",
  "app_exception",
  "app_remove",
  "app_store_refund",
  "app_store_subscription_cancel",
  "app_store_subscription_convert",
  "app_store_subscription_renew",
  "app_update",
  "app_upgrade",
  "dynamic_link_app_open",
  "dynamic_link_app_update",
  "dynamic_link_first_open",
  "error",
  "firebase_campaign",
  "firebase_in_app_message_action",
  "firebase_in_app_message_dismiss",
  "firebase_in_app_message_impression",
  "first_open",
  "first_visit",
  "in_app_purchase",
  "notification_dismiss",
  "notification_foreground",
  "notification_open",
  "notification_receive",
  "notification_send",
  "os_update",
  "session_start",
  "user_engagement",
]);

/** Prefixes reserved for event, parameter and user property names. */
export const GA4_RESERVED_PREFIXES: readonly string[] = ["google_", "ga_", "firebase_"];

const RESERVED_USER_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  "first_open_after_install",
  "first_open_time",
  "first_visit_time",
  "last_deep_link_referrer",
  "user_id",
]);

// Item parameters GA4 defines; an item may carry at most 10 others.
const PREDEFINED_ITEM_PARAMS: ReadonlySet<string> = new Set([
  "affiliation",
  "coupon",
  "creative_name",
  "creative_slot",
  "discount",
  "index",
  "item_brand",
  "item_category",
  "item_category2",
  "item_category3",
  "item_category4",
  "item_category5",
  "item_id",
  "item_list_id",
  "item_list_name",
  "item_name",
  "item_variant",
  "location_id",
  "price",
  "promotion_id",
  "promotion_name",
  "quantity",
]);

export type Ga4ValidationCode =
  | "VALUE_INVALID"
  | "VALUE_REQUIRED"
  | "NAME_INVALID"
  | "NAME_RESERVED"
  | "VALUE_OUT_OF_BOUNDS"
  | "EXCEEDED_MAX_ENTITIES"
  | "NAME_DUPLICATED";

export interface Ga4ValidationMessage {
  readonly fieldPath: string;
  readonly description: string;
  readonly validationCode: Ga4ValidationCode;
}

/** The body `/debug/mp/collect` answers; an empty list means the request is valid. */
export interface Ga4ValidationResponse {
  readonly validationMessages: readonly Ga4ValidationMessage[];
}

/** A validation message plus what Pulse makes of it on /mp/collect. */
interface Issue extends Ga4ValidationMessage {
  readonly code: string;
  readonly status: number;
}

const issue = (fieldPath: string, validationCode: Ga4ValidationCode, code: string, description: string, status = 400): Issue => ({
  fieldPath,
  description,
  validationCode,
  code,
  status,
});

type PathPart = string | number;

const fieldPath = (parts: readonly PathPart[]): string =>
  parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

/**
 * Paths of the keys that appear twice in one object of a JSON text. JSON.parse keeps the last
 * silently, so GA4's NAME_DUPLICATED can only be seen in the text. The text must be valid JSON.
 */
export const duplicateKeyPaths = (text: string): PathPart[][] => {
  interface Frame {
    readonly object: boolean;
    readonly path: readonly PathPart[];
    readonly keys: Set<string>;
    index: number;
    key: string;
    expectKey: boolean;
  }
  const found: PathPart[][] = [];
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack.at(-1);
      if (top?.object && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) found.push([...top.path, key]);
        else top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{" || c === "[") {
      const top = stack.at(-1);
      const path = top === undefined ? [] : [...top.path, top.object ? top.key : top.index];
      stack.push({ object: c === "{", path, keys: new Set(), index: 0, key: "", expectKey: c === "{" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack.at(-1);
      if (top?.object) top.expectKey = true;
      else if (top) top.index++;
    }
    i++;
  }
  return found;
};

const NAME_PATTERN = /^\p{L}[\p{L}\p{N}_]*$/u;

interface NameRule {
  readonly what: string;
  readonly max: number;
  readonly reserved: ReadonlySet<string>;
  readonly invalidCode: string;
  readonly reservedCode: string;
}

const EVENT_NAME: NameRule = {
  what: "event name",
  max: GA4_LIMITS.maxEventNameLength,
  reserved: GA4_RESERVED_EVENT_NAMES,
  invalidCode: "invalid_name",
  reservedCode: "reserved_name",
};
const PARAM_NAME: NameRule = {
  what: "parameter name",
  max: GA4_LIMITS.maxParamNameLength,
  reserved: new Set(),
  invalidCode: "invalid_param",
  reservedCode: "reserved_param",
};
const ITEM_PARAM_NAME: NameRule = { ...PARAM_NAME, what: "item parameter name" };
const USER_PROPERTY_NAME: NameRule = {
  what: "user property name",
  max: GA4_LIMITS.maxUserPropertyNameLength,
  reserved: RESERVED_USER_PROPERTY_NAMES,
  invalidCode: "invalid_user_property",
  reservedCode: "reserved_user_property",
};

const checkName = (name: string, rule: NameRule, path: string): Issue | undefined => {
  const q = JSON.stringify(clip(name));
  if (chars(name) > rule.max) return issue(path, "NAME_INVALID", rule.invalidCode, `${rule.what} ${q} is longer than ${rule.max} characters`);
  if (!NAME_PATTERN.test(name))
    return issue(path, "NAME_INVALID", rule.invalidCode, `${rule.what} ${q} must start with a letter and hold only letters, digits and underscores`);
  if (rule.reserved.has(name)) return issue(path, "NAME_RESERVED", rule.reservedCode, `${rule.what} ${q} is reserved by Google Analytics`);
  const prefix = GA4_RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) return issue(path, "NAME_RESERVED", rule.reservedCode, `${rule.what} ${q} uses the reserved prefix "${prefix}"`);
  return undefined;
};

const INVALID_TIME = Symbol("invalid time");

/** `timestamp_micros` as epoch ms: a positive integer, as a JSON number or a string of digits. */
const readMicros = (v: unknown): number | undefined | typeof INVALID_TIME => {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,17}$/.test(v) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? Math.floor(n / 1000) : INVALID_TIME;
};

const checkTime = (ms: number, receivedAt: number, path: string): Issue | undefined => {
  if (ms < receivedAt - GA4_LIMITS.maxBackdateMs) return issue(path, "VALUE_OUT_OF_BOUNDS", "time_too_old", `"timestamp_micros" is more than 72 hours in the past`);
  if (ms > receivedAt + MAX_FUTURE_MS) return issue(path, "VALUE_OUT_OF_BOUNDS", "time_in_future", `"timestamp_micros" is more than an hour in the future`);
  return undefined;
};

/** One event as inspected: its issues, and what it becomes when it has none. */
interface EventDraft {
  readonly issues: Issue[];
  readonly name: string;
  readonly url: string | undefined;
  readonly referrer: string;
  readonly props: Record<string, Scalar>;
  readonly clientTs: number | undefined;
}

interface Inspection {
  /** Problems with the request as a whole. */
  readonly issues: Issue[];
  readonly clientId: string;
  /** Request-level values every event carries: user_id, user properties, consent. */
  readonly shared: Record<string, Scalar>;
  readonly events: readonly EventDraft[];
}

const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

const inspectItems = (items: unknown, path: readonly PathPart[], issues: Issue[]): void => {
  const at = fieldPath(path);
  if (!Array.isArray(items)) {
    issues.push(issue(at, "VALUE_INVALID", "invalid_param", `"items" must be an array of objects`));
    return;
  }
  if (items.length > GA4_LIMITS.maxItems)
    issues.push(issue(at, "EXCEEDED_MAX_ENTITIES", "too_many_items", `"items" has ${items.length} entries; the limit is ${GA4_LIMITS.maxItems}`));
  items.forEach((item, j) => {
    const itemAt = fieldPath([...path, j]);
    if (!isObject(item)) {
      issues.push(issue(itemAt, "VALUE_INVALID", "invalid_param", `item ${j} must be an object`));
      return;
    }
    const has = (k: string): boolean => item[k] !== undefined && item[k] !== null && item[k] !== "";
    if (!has("item_id") && !has("item_name")) issues.push(issue(itemAt, "VALUE_REQUIRED", "missing_item_id", `item ${j} needs "item_id" or "item_name"`));
    let custom = 0;
    for (const [k, v] of Object.entries(item)) {
      const valueAt = fieldPath([...path, j, k]);
      const bad = checkName(k, ITEM_PARAM_NAME, valueAt);
      if (bad) {
        issues.push(bad);
        continue;
      }
      if (!PREDEFINED_ITEM_PARAMS.has(k)) custom++;
      if (!isScalar(v)) issues.push(issue(valueAt, "VALUE_INVALID", "invalid_param", `item parameter "${k}" must be a string, a number or a boolean`));
      else if (typeof v === "string" && chars(v) > GA4_LIMITS.maxParamValueLength)
        issues.push(issue(valueAt, "VALUE_OUT_OF_BOUNDS", "param_too_long", `item parameter "${k}" is longer than ${GA4_LIMITS.maxParamValueLength} characters`));
    }
    if (custom > GA4_LIMITS.maxItemCustomParams)
      issues.push(
        issue(itemAt, "EXCEEDED_MAX_ENTITIES", "too_many_item_params", `item ${j} has ${custom} custom parameters; the limit is ${GA4_LIMITS.maxItemCustomParams}`),
      );
  });
};

const inspectEvent = (raw: unknown, index: number, requestTs: number | undefined, receivedAt: number): EventDraft => {
  const issues: Issue[] = [];
  const props: Record<string, Scalar> = {};
  const base: PathPart[] = ["events", index];
  const at = (...rest: PathPart[]): string => fieldPath([...base, ...rest]);
  let name = "";
  let url: string | undefined;
  let referrer = "";
  let clientTs = requestTs;
  if (!isObject(raw)) {
    issues.push(issue(at(), "VALUE_INVALID", "invalid_event", "an event must be a JSON object"));
    return { issues, name, url, referrer, props, clientTs };
  }

  const rawName = raw["name"];
  if (rawName === undefined || rawName === null || rawName === "") issues.push(issue(at("name"), "VALUE_REQUIRED", "missing_field", `"name" is required`));
  else if (typeof rawName !== "string") issues.push(issue(at("name"), "VALUE_INVALID", "invalid_field", `"name" must be a string`));
  else {
    const bad = checkName(rawName, EVENT_NAME, at("name"));
    if (bad) issues.push(bad);
    name = rawName === "page_view" ? PAGEVIEW : rawName;
  }

  const ownTs = readMicros(raw["timestamp_micros"]);
  if (ownTs === INVALID_TIME)
    issues.push(issue(at("timestamp_micros"), "VALUE_INVALID", "invalid_time", `"timestamp_micros" must be a positive integer of microseconds since the epoch`));
  else if (ownTs !== undefined) {
    const bad = checkTime(ownTs, receivedAt, at("timestamp_micros"));
    if (bad) issues.push(bad);
    clientTs = ownTs;
  }

  const params = raw["params"];
  if (params !== undefined && params !== null && !isObject(params))
    issues.push(issue(at("params"), "VALUE_INVALID", "invalid_field", `"params" must be an object`));
  else if (params) {
    // `items` is the ecommerce item list, not a parameter of its own: it is not counted.
    const count = Object.keys(params).filter((k) => k !== "items").length;
    if (count > GA4_LIMITS.maxParams)
      issues.push(issue(at("params"), "EXCEEDED_MAX_ENTITIES", "too_many_params", `the event has ${count} parameters; the limit is ${GA4_LIMITS.maxParams}`));
    for (const [k, v] of Object.entries(params)) {
      const paramAt = at("params", k);
      const badName = checkName(k, PARAM_NAME, paramAt);
      if (badName) {
        issues.push(badName);
        continue;
      }
      if (k === "items") {
        inspectItems(v, [...base, "params", "items"], issues);
        // Kept whole, as JSON, since event properties are flat.
        if (Array.isArray(v)) {
          props["items"] = JSON.stringify(v);
          props["items_count"] = v.length;
        }
        continue;
      }
      if (!isScalar(v)) {
        issues.push(issue(paramAt, "VALUE_INVALID", "invalid_param", `parameter "${k}" must be a string, a number or a boolean`));
        continue;
      }
      const max = PARAM_VALUE_LIMITS[k] ?? GA4_LIMITS.maxParamValueLength;
      if (typeof v === "string" && chars(v) > max) {
        issues.push(issue(paramAt, "VALUE_OUT_OF_BOUNDS", "param_too_long", `parameter "${k}" is longer than ${max} characters`));
        continue;
      }
      switch (k) {
        case "page_location":
          url = typeof v === "string" ? httpUrl(v) : undefined;
          if (url === undefined) issues.push(issue(paramAt, "VALUE_INVALID", "invalid_url", `"page_location" must be an absolute http or https URL`));
          break;
        case "page_referrer":
          if (typeof v === "string") referrer = v;
          else issues.push(issue(paramAt, "VALUE_INVALID", "invalid_param", `"page_referrer" must be a string`));
          break;
        case "session_id":
          if (typeof v === "boolean") issues.push(issue(paramAt, "VALUE_INVALID", "invalid_param", `"session_id" must be a string or a number`));
          else props["ga_session_id"] = String(v);
          break;
        case "engagement_time_msec": {
          const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
          if (typeof n === "number" && Number.isFinite(n) && n >= 0) props["engagement_time_msec"] = n;
          else issues.push(issue(paramAt, "VALUE_INVALID", "invalid_param", `"engagement_time_msec" must be a number of milliseconds`));
          break;
        }
        default:
          props[k] = v;
      }
    }
  }
  return { issues, name, url, referrer, props, clientTs };
};

const inspect = (body: string | Uint8Array, receivedAt: number): Inspection => {
  const issues: Issue[] = [];
  const shared: Record<string, Scalar> = {};
  const fatal = (i: Issue): Inspection => ({ issues: [i], clientId: "", shared, events: [] });

  const size = typeof body === "string" ? utf8Bytes(body) : body.byteLength;
  if (size > GA4_LIMITS.maxBodyBytes)
    return fatal(issue("", "VALUE_OUT_OF_BOUNDS", "body_too_large", `the body is ${size} bytes; the limit is ${GA4_LIMITS.maxBodyBytes}`, 413));
  let text: string;
  try {
    text = bodyText(body);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    return fatal(issue("", "VALUE_INVALID", e.code, e.message));
  }
  if (text.trim() === "") return fatal(issue("", "VALUE_REQUIRED", "empty_body", "the body is empty"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fatal(issue("", "VALUE_INVALID", "invalid_body", "the body is not valid JSON"));
  }
  if (!isObject(parsed)) return fatal(issue("", "VALUE_INVALID", "invalid_body", "the body must be a JSON object"));
  const o: Json = parsed;

  const clientId = o["client_id"];
  if (clientId === undefined || clientId === null || clientId === "")
    issues.push(issue("client_id", "VALUE_REQUIRED", "missing_client_id", `"client_id" is required`));
  else if (typeof clientId !== "string") issues.push(issue("client_id", "VALUE_INVALID", "invalid_field", `"client_id" must be a string`));
  else if (clientId.length > MAX_CLIENT_ID)
    issues.push(issue("client_id", "VALUE_OUT_OF_BOUNDS", "field_too_long", `"client_id" is longer than ${MAX_CLIENT_ID} characters`));

  const userId = o["user_id"];
  if (userId !== undefined && userId !== null) {
    if (typeof userId !== "string") issues.push(issue("user_id", "VALUE_INVALID", "invalid_field", `"user_id" must be a string`));
    else if (chars(userId) > MAX_USER_ID)
      issues.push(issue("user_id", "VALUE_OUT_OF_BOUNDS", "field_too_long", `"user_id" is longer than ${MAX_USER_ID} characters`));
    else if (userId !== "") shared["user_id"] = userId;
  }

  const requestTs = readMicros(o["timestamp_micros"]);
  if (requestTs === INVALID_TIME)
    issues.push(issue("timestamp_micros", "VALUE_INVALID", "invalid_time", `"timestamp_micros" must be a positive integer of microseconds since the epoch`));
  else if (requestTs !== undefined) {
    const bad = checkTime(requestTs, receivedAt, "timestamp_micros");
    if (bad) issues.push(bad);
  }

  const npa = o["non_personalized_ads"];
  if (typeof npa === "boolean") shared["non_personalized_ads"] = npa;
  else if (npa !== undefined && npa !== null)
    issues.push(issue("non_personalized_ads", "VALUE_INVALID", "invalid_field", `"non_personalized_ads" must be a boolean`));

  const consent = o["consent"];
  if (isObject(consent)) {
    for (const k of ["ad_user_data", "ad_personalization"]) {
      const v = consent[k];
      if (v === "GRANTED" || v === "DENIED") shared[`consent_${k}`] = v;
      else if (v !== undefined && v !== null) issues.push(issue(`consent.${k}`, "VALUE_INVALID", "invalid_consent", `"consent.${k}" must be "GRANTED" or "DENIED"`));
    }
  } else if (consent !== undefined && consent !== null) issues.push(issue("consent", "VALUE_INVALID", "invalid_consent", `"consent" must be an object`));

  const userProperties = o["user_properties"];
  if (isObject(userProperties)) {
    const entries = Object.entries(userProperties);
    if (entries.length > GA4_LIMITS.maxUserProperties)
      issues.push(
        issue(
          "user_properties",
          "EXCEEDED_MAX_ENTITIES",
          "too_many_user_properties",
          `there are ${entries.length} user properties; the limit is ${GA4_LIMITS.maxUserProperties}`,
        ),
      );
    for (const [k, entry] of entries) {
      const at = fieldPath(["user_properties", k]);
      const badName = checkName(k, USER_PROPERTY_NAME, at);
      if (badName) {
        issues.push(badName);
        continue;
      }
      if (!isObject(entry)) {
        issues.push(issue(at, "VALUE_INVALID", "invalid_user_property", `user property "${k}" must be an object with a "value"`));
        continue;
      }
      if (readMicros(entry["timestamp_micros"]) === INVALID_TIME)
        issues.push(issue(`${at}.timestamp_micros`, "VALUE_INVALID", "invalid_time", `"timestamp_micros" of user property "${k}" must be a positive integer`));
      const v = entry["value"];
      // A null value clears the property in GA4; there is nothing to record on the events.
      if (v === undefined || v === null) continue;
      if (!isScalar(v)) issues.push(issue(`${at}.value`, "VALUE_INVALID", "invalid_user_property", `user property "${k}" must be a string or a number`));
      else if (typeof v === "string" && chars(v) > GA4_LIMITS.maxUserPropertyValueLength)
        issues.push(
          issue(
            `${at}.value`,
            "VALUE_OUT_OF_BOUNDS",
            "user_property_too_long",
            `user property "${k}" is longer than ${GA4_LIMITS.maxUserPropertyValueLength} characters`,
          ),
        );
      else shared[`up_${k}`] = v;
    }
  } else if (userProperties !== undefined && userProperties !== null)
    issues.push(issue("user_properties", "VALUE_INVALID", "invalid_user_property", `"user_properties" must be an object`));

  const rawEvents = o["events"];
  let list: readonly unknown[] = [];
  if (rawEvents === undefined || rawEvents === null) issues.push(issue("events", "VALUE_REQUIRED", "missing_events", `"events" is required`));
  else if (!Array.isArray(rawEvents)) issues.push(issue("events", "VALUE_INVALID", "invalid_events", `"events" must be an array`));
  else if (rawEvents.length === 0) issues.push(issue("events", "VALUE_REQUIRED", "empty_batch", `"events" is empty`));
  else {
    if (rawEvents.length > GA4_LIMITS.maxEvents)
      issues.push(
        issue("events", "EXCEEDED_MAX_ENTITIES", "too_many_events", `at most ${GA4_LIMITS.maxEvents} events per request, got ${rawEvents.length}`, 413),
      );
    list = rawEvents;
  }
  const ts = requestTs === INVALID_TIME ? undefined : requestTs;
  const events = list.map((e, index) => inspectEvent(e, index, ts, receivedAt));

  for (const path of duplicateKeyPaths(text)) {
    const [head, index, field] = path;
    const key = path[path.length - 1];
    const at = fieldPath(path);
    const event = head === "events" && typeof index === "number" ? events[index] : undefined;
    if (event)
      event.issues.push(
        issue(at, "NAME_DUPLICATED", field === "params" ? "duplicate_param" : "duplicate_field", `${JSON.stringify(key)} appears more than once`),
      );
    else
      issues.push(
        issue(at, "NAME_DUPLICATED", head === "user_properties" ? "duplicate_user_property" : "duplicate_field", `${JSON.stringify(key)} appears more than once`),
      );
  }

  return { issues, clientId: typeof clientId === "string" ? clientId : "", shared, events };
};

/**
 * What GA4's validation server (`POST /debug/mp/collect`) would answer for this body.
 * Field paths point at the offending field, e.g. `events[0].params.value`.
 */
export const validateGa4 = (body: string | Uint8Array, receivedAt: number = Date.now()): Ga4ValidationResponse => {
  const r = inspect(body, receivedAt);
  const messages = [...r.issues, ...r.events.flatMap((e) => e.issues)];
  return { validationMessages: messages.map(({ fieldPath, description, validationCode }) => ({ fieldPath, description, validationCode })) };
};

/** The stream a request names; mapping it to a site is the edge's business. */
export interface Ga4Credentials {
  readonly measurementId: string;
  readonly apiSecret: string;
}

export const readGa4Credentials = (query: URLSearchParams): Ga4Credentials => {
  const measurementId = query.get("measurement_id");
  if (!measurementId) throw new InvalidInput("missing_measurement_id", `the query parameter "measurement_id" is required`);
  const apiSecret = query.get("api_secret");
  if (!apiSecret) throw new InvalidInput("missing_api_secret", `the query parameter "api_secret" is required`);
  return { measurementId, apiSecret };
};

/**
 * Parses a `POST /mp/collect` body for `site`, which the edge resolved from measurement_id and
 * api_secret. Problems with the request as a whole (the body, client_id, user properties, the
 * number of events) throw; problems with one event reject that event only.
 */
export const parseGa4Collect = (body: string | Uint8Array, site: string, ctx: RequestContext): ParsedBatch => {
  if (!ctx.isKnownSite(site)) throw new InvalidInput("unknown_site", `site "${site.slice(0, 128)}" is not registered`, 404);
  const r = inspect(body, ctx.receivedAt);
  const problem = r.issues[0];
  if (problem) throw new InvalidInput(problem.code, `${problem.fieldPath ? `${problem.fieldPath}: ` : ""}${problem.description}`, problem.status);
  // GA4 reports pages by `page_location`; a Measurement Protocol event without one (a server-side
  // purchase, say) gets the site's root URL, so that the url of every event is an absolute URL.
  const fallbackUrl = siteRootUrl(site);
  const visitor = r.clientId;
  const accepted: PulseEvent[] = [];
  const rejected: Rejection[] = [];
  r.events.forEach((e, index) => {
    const first = e.issues[0];
    if (first) {
      rejected.push({ index, code: first.code, message: `${first.fieldPath}: ${first.description}` });
      return;
    }
    const url = e.url ?? fallbackUrl;
    if (url === undefined) {
      rejected.push({ index, code: "missing_url", message: `events[${index}].params.page_location is required: site "${site}" is not a host name` });
      return;
    }
    const seq = ctx.nextSeq();
    const ts = e.clientTs ?? ctx.receivedAt;
    accepted.push({
      id: derivedEventId(site, visitor, e.name, url, ts, e.clientTs !== undefined, index, seq),
      site,
      visitor,
      name: e.name,
      ts,
      seq,
      receivedAt: ctx.receivedAt,
      url,
      referrer: e.referrer,
      props: { ...e.props, ...r.shared },
    });
  });
  return { site, accepted, rejected };
};
