import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import {
  duplicateKeyPaths,
  GA4_LIMITS,
  GA4_RESERVED_EVENT_NAMES,
  parseGa4Collect,
  readGa4Credentials,
  validateGa4,
  type Ga4ValidationCode,
  type Ga4ValidationMessage,
} from "./ga4.js";
import type { ParsedBatch, RequestContext } from "./native.js";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const NOW_MICROS = NOW * 1000;
const SITES = new Set(["example.com", "shop.example", "not a host"]);

const ctx = (o: { receivedAt?: number; firstSeq?: number } = {}): RequestContext => {
  let seq = o.firstSeq ?? 100;
  return {
    receivedAt: o.receivedAt ?? NOW,
    ip: "203.0.113.7",
    userAgent: "Mozilla/5.0 (test)",
    visitorSalt: "salt-1",
    nextSeq: () => seq++,
    isKnownSite: (s) => SITES.has(s),
  };
};

const text = (body: unknown): string => (typeof body === "string" ? body : JSON.stringify(body));
const parse = (body: unknown, c: RequestContext = ctx(), site = "example.com"): ParsedBatch => parseGa4Collect(text(body), site, c);
const validate = (body: unknown): readonly Ga4ValidationMessage[] => validateGa4(text(body), NOW).validationMessages;

const invalid = (body: unknown, site = "example.com"): InvalidInput => {
  try {
    parse(body, ctx(), site);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error("expected parseGa4Collect to throw");
};

const CID = "123456.7654321";
const withEvent = (event: unknown, extra: Record<string, unknown> = {}) => ({ client_id: CID, ...extra, events: [event] });

const rejectOne = (event: unknown): { code: string; message: string } => {
  const r = parse(withEvent(event));
  expect(r.accepted).toEqual([]);
  expect(r.rejected).toHaveLength(1);
  expect(r.rejected[0]?.index).toBe(0);
  return r.rejected[0] as { code: string; message: string };
};

const acceptOne = (event: unknown, extra: Record<string, unknown> = {}, c: RequestContext = ctx()) => {
  const r = parse(withEvent(event, extra), c);
  expect(r.rejected).toEqual([]);
  expect(r.accepted).toHaveLength(1);
  return r.accepted[0] as ParsedBatch["accepted"][number];
};

/** The single validation message for a body, and the same body through the parser. */
const oneMessage = (body: unknown): Ga4ValidationMessage => {
  const messages = validate(body);
  expect(messages).toHaveLength(1);
  return messages[0] as Ga4ValidationMessage;
};

/** Checks that an event is rejected by the parser and reported by the validator with `code`. */
const eventFails = (event: unknown, validationCode: Ga4ValidationCode, code: string, fieldPath?: string): void => {
  const m = oneMessage(withEvent(event));
  expect(m.validationCode).toBe(validationCode);
  if (fieldPath !== undefined) expect(m.fieldPath).toBe(fieldPath);
  expect(m.description.length).toBeGreaterThan(0);
  expect(rejectOne(event).code).toBe(code);
};
/** Checks that a request is refused as a whole by the parser and reported by the validator with `code`. */
const requestFails = (body: unknown, validationCode: Ga4ValidationCode, code: string, status = 400, fieldPath?: string): void => {
  const m = oneMessage(body);
  expect(m.validationCode).toBe(validationCode);
  if (fieldPath !== undefined) expect(m.fieldPath).toBe(fieldPath);
  const e = invalid(body);
  expect(e.code).toBe(code);
  expect(e.status).toBe(status);
};

const props = (n: number, make: (i: number) => unknown = (i) => i) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, make(i)]));

describe("examples from GA4's Measurement Protocol documentation", () => {
  it("sends the campaign_details example: client_id and an event with params, session_id and engagement_time_msec", () => {
    const body = {
      client_id: "123456.7654321",
      events: [
        {
          name: "campaign_details",
          params: {
            campaign_id: "google_1234",
            campaign: "Summer_fun",
            source: "google",
            medium: "cpc",
            term: "summer+travel",
            content: "logolink",
            session_id: "123",
            engagement_time_msec: "100",
          },
        },
      ],
    };
    expect(validate(body)).toEqual([]);
    const r = parse(body);
    expect(r.site).toBe("example.com");
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0]).toMatchObject({
      site: "example.com",
      visitor: "123456.7654321",
      name: "campaign_details",
      url: "https://example.com/",
      referrer: "",
      ts: NOW,
      seq: 100,
      receivedAt: NOW,
      props: {
        campaign_id: "google_1234",
        campaign: "Summer_fun",
        source: "google",
        medium: "cpc",
        term: "summer+travel",
        content: "logolink",
        ga_session_id: "123",
        engagement_time_msec: 100,
      },
    });
    expect(r.accepted[0]?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("sends the login example with a numeric engagement_time_msec", () => {
    const e = acceptOne({ name: "login", params: { method: "Google", session_id: "123", engagement_time_msec: 100 } });
    expect(e.name).toBe("login");
    expect(e.props).toEqual({ method: "Google", ga_session_id: "123", engagement_time_msec: 100 });
  });

  it("sends a page_view with user_id, timestamp_micros and the customer_tier user property", () => {
    const body = {
      client_id: CID,
      user_id: "user-42",
      timestamp_micros: String(NOW_MICROS - 5_000_000),
      user_properties: { customer_tier: { value: "premium" } },
      events: [
        {
          name: "page_view",
          params: { page_location: "https://Example.com/pricing?plan=pro", page_referrer: "https://www.google.com/", page_title: "Pricing" },
        },
      ],
    };
    expect(validate(body)).toEqual([]);
    const [e] = parse(body).accepted;
    expect(e).toMatchObject({
      name: "pageview",
      url: "https://example.com/pricing?plan=pro",
      referrer: "https://www.google.com/",
      ts: NOW - 5000,
      props: { page_title: "Pricing", user_id: "user-42", up_customer_tier: "premium" },
    });
  });

  it("sends the purchase example with items", () => {
    const items = [{ item_id: "SKU_12345", item_name: "Stan and Friends Tee", price: 10.01, quantity: 3 }];
    const body = withEvent({ name: "purchase", params: { currency: "USD", value: 30.03, transaction_id: "T_12345", items } });
    expect(validate(body)).toEqual([]);
    const e = acceptOne(body.events[0]);
    expect(e.props).toEqual({ currency: "USD", value: 30.03, transaction_id: "T_12345", items: JSON.stringify(items), items_count: 1 });
  });

  it("answers the validation guide's example, an event named _badEventName, with NAME_INVALID", () => {
    const body = { client_id: CID, events: [{ name: "_badEventName", params: {} }] };
    const m = oneMessage(body);
    expect(m).toMatchObject({ fieldPath: "events[0].name", validationCode: "NAME_INVALID" });
    expect(m.description).toContain("_badEventName");
    expect(rejectOne(body.events[0]).code).toBe("invalid_name");
  });
});

describe("the request as a whole", () => {
  it("refuses an unregistered site with 404 before reading the body", () => {
    const e = invalid("not json", "other.example");
    expect(e.code).toBe("unknown_site");
    expect(e.status).toBe(404);
  });

  it("takes bytes as well as text, and refuses bytes that are not UTF-8", () => {
    const body = new TextEncoder().encode(JSON.stringify(withEvent({ name: "tap" })));
    expect(parseGa4Collect(body, "example.com", ctx()).accepted).toHaveLength(1);
    const bad = new Uint8Array([0x7b, 0xff, 0x7d]);
    expect(() => parseGa4Collect(bad, "example.com", ctx())).toThrow(InvalidInput);
    expect(validateGa4(bad, NOW).validationMessages.map((m) => m.validationCode)).toEqual(["VALUE_INVALID"]);
  });

  it("refuses a body over 130 kB with 413 and VALUE_OUT_OF_BOUNDS, and accepts one of exactly 130,000 bytes", () => {
    const json = JSON.stringify(withEvent({ name: "tap" }));
    const exact = json + " ".repeat(GA4_LIMITS.maxBodyBytes - json.length);
    expect(Buffer.byteLength(exact)).toBe(130_000);
    expect(validate(exact)).toEqual([]);
    expect(parse(exact).accepted).toHaveLength(1);
    requestFails(`${exact} `, "VALUE_OUT_OF_BOUNDS", "body_too_large", 413);
  });

  it.each([
    ["empty", "", "VALUE_REQUIRED", "empty_body"],
    ["blank", "  \n", "VALUE_REQUIRED", "empty_body"],
    ["not JSON", "{client_id:", "VALUE_INVALID", "invalid_body"],
    ["an array", "[]", "VALUE_INVALID", "invalid_body"],
    ["null", "null", "VALUE_INVALID", "invalid_body"],
    ["a string", '"x"', "VALUE_INVALID", "invalid_body"],
  ] as const)("refuses a body that is %s", (_what, body, validationCode, code) => {
    requestFails(body, validationCode, code);
  });

  it.each([
    ["absent", {}, "VALUE_REQUIRED", "missing_client_id"],
    ["empty", { client_id: "" }, "VALUE_REQUIRED", "missing_client_id"],
    ["null", { client_id: null }, "VALUE_REQUIRED", "missing_client_id"],
    ["a number", { client_id: 123456 }, "VALUE_INVALID", "invalid_field"],
    ["longer than 128 characters", { client_id: "c".repeat(129) }, "VALUE_OUT_OF_BOUNDS", "field_too_long"],
  ] as const)("refuses a client_id that is %s", (_what, fields, validationCode, code) => {
    requestFails({ ...fields, events: [{ name: "tap" }] }, validationCode, code, 400, "client_id");
  });

  it("accepts a client_id of 128 characters as the visitor", () => {
    const r = parse({ client_id: "c".repeat(128), events: [{ name: "tap" }] });
    expect(r.accepted[0]?.visitor).toBe("c".repeat(128));
  });

  it.each([
    ["a number", 42, "VALUE_INVALID"],
    ["longer than 256 characters", "u".repeat(257), "VALUE_OUT_OF_BOUNDS"],
  ] as const)("refuses a user_id that is %s", (_what, userId, validationCode) => {
    requestFails(withEvent({ name: "tap" }, { user_id: userId }), validationCode, validationCode === "VALUE_INVALID" ? "invalid_field" : "field_too_long");
  });

  it.each([["soon"], [-1], [1.5], [true], [{}], ["12.5"], [0]])("refuses a request timestamp_micros of %j with VALUE_INVALID", (ts) => {
    requestFails(withEvent({ name: "tap" }, { timestamp_micros: ts }), "VALUE_INVALID", "invalid_time", 400, "timestamp_micros");
  });

  it("refuses a request timestamp more than 72 hours old or an hour ahead, with VALUE_OUT_OF_BOUNDS", () => {
    requestFails(withEvent({ name: "tap" }, { timestamp_micros: NOW_MICROS - 72 * HOUR * 1000 - 1000 }), "VALUE_OUT_OF_BOUNDS", "time_too_old");
    requestFails(withEvent({ name: "tap" }, { timestamp_micros: NOW_MICROS + HOUR * 1000 + 1000 }), "VALUE_OUT_OF_BOUNDS", "time_in_future");
    expect(acceptOne({ name: "tap" }, { timestamp_micros: NOW_MICROS - 72 * HOUR * 1000 }).ts).toBe(NOW - 72 * HOUR);
  });

  it("refuses a non-boolean non_personalized_ads and a bad consent value with VALUE_INVALID", () => {
    requestFails(withEvent({ name: "tap" }, { non_personalized_ads: "yes" }), "VALUE_INVALID", "invalid_field", 400, "non_personalized_ads");
    requestFails(withEvent({ name: "tap" }, { consent: { ad_user_data: "yes" } }), "VALUE_INVALID", "invalid_consent", 400, "consent.ad_user_data");
    requestFails(withEvent({ name: "tap" }, { consent: "GRANTED" }), "VALUE_INVALID", "invalid_consent", 400, "consent");
  });

  it.each([
    ["absent", {}, "VALUE_REQUIRED", "missing_events", 400],
    ["not an array", { events: { name: "tap" } }, "VALUE_INVALID", "invalid_events", 400],
    ["empty", { events: [] }, "VALUE_REQUIRED", "empty_batch", 400],
    ["26 events long", { events: Array.from({ length: 26 }, () => ({ name: "tap" })) }, "EXCEEDED_MAX_ENTITIES", "too_many_events", 413],
  ] as const)("refuses events that are %s", (_what, fields, validationCode, code, status) => {
    requestFails({ client_id: CID, ...fields }, validationCode, code, status, "events");
  });

  it("accepts 25 events", () => {
    const r = parse({ client_id: CID, events: Array.from({ length: 25 }, () => ({ name: "tap" })) });
    expect(r.accepted).toHaveLength(25);
    expect(new Set(r.accepted.map((e) => e.id)).size).toBe(25);
  });

  it("refuses a duplicated top-level key with NAME_DUPLICATED", () => {
    requestFails(`{"client_id":"a","client_id":"b","events":[{"name":"tap"}]}`, "NAME_DUPLICATED", "duplicate_field", 400, "client_id");
  });

  it("puts the field path in the refusal's message", () => {
    expect(invalid({ events: [{ name: "tap" }] }).message).toMatch(/^client_id: /);
  });
});

describe("user properties", () => {
  const up = (userProperties: unknown) => withEvent({ name: "tap" }, { user_properties: userProperties });

  it("puts user properties, user_id, non_personalized_ads and consent on every event", () => {
    const r = parse({
      client_id: CID,
      user_id: "u1",
      non_personalized_ads: true,
      consent: { ad_user_data: "GRANTED", ad_personalization: "DENIED" },
      user_properties: { tier: { value: "gold" }, visits: { value: 3, timestamp_micros: NOW_MICROS }, cleared: { value: null } },
      events: [{ name: "a" }, { name: "b", params: { x: 1 } }],
    });
    const shared = {
      user_id: "u1",
      non_personalized_ads: true,
      consent_ad_user_data: "GRANTED",
      consent_ad_personalization: "DENIED",
      up_tier: "gold",
      up_visits: 3,
    };
    expect(r.accepted.map((e) => e.props)).toEqual([shared, { x: 1, ...shared }]);
  });

  it("accepts 25 user properties, names of 24 characters and values of 36", () => {
    expect(validate(up(Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`p${i}`, { value: i }]))))).toEqual([]);
    const e = acceptOne({ name: "tap" }, { user_properties: { ["n".repeat(24)]: { value: "v".repeat(36) } } });
    expect(e.props[`up_${"n".repeat(24)}`]).toBe("v".repeat(36));
  });

  it("refuses more than 25 user properties with EXCEEDED_MAX_ENTITIES", () => {
    requestFails(
      up(Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`p${i}`, { value: i }]))),
      "EXCEEDED_MAX_ENTITIES",
      "too_many_user_properties",
      400,
      "user_properties",
    );
  });

  it.each([["n".repeat(25)], ["1tier"], ["_tier"], ["tier-level"], ["tier level"], [""]])("refuses the user property name %j with NAME_INVALID", (name) => {
    requestFails(up({ [name]: { value: "x" } }), "NAME_INVALID", "invalid_user_property");
  });

  it.each([["user_id"], ["first_open_time"], ["first_visit_time"], ["last_deep_link_referrer"], ["first_open_after_install"], ["google_x"], ["ga_x"], ["firebase_x"]])(
    "refuses the reserved user property name %j with NAME_RESERVED",
    (name) => {
      requestFails(up({ [name]: { value: "x" } }), "NAME_RESERVED", "reserved_user_property", 400, `user_properties.${name}`);
    },
  );

  it("refuses a value longer than 36 characters with VALUE_OUT_OF_BOUNDS", () => {
    requestFails(up({ tier: { value: "v".repeat(37) } }), "VALUE_OUT_OF_BOUNDS", "user_property_too_long", 400, "user_properties.tier.value");
  });

  it.each([
    ["not an object", "gold", "user_properties"],
    ["an entry that is not an object", { tier: "gold" }, "user_properties.tier"],
    ["an object value", { tier: { value: { a: 1 } } }, "user_properties.tier.value"],
    ["an array value", { tier: { value: [1] } }, "user_properties.tier.value"],
  ])("refuses user properties with %s with VALUE_INVALID", (_what, userProperties, fieldPath) => {
    requestFails(up(userProperties), "VALUE_INVALID", "invalid_user_property", 400, fieldPath);
  });

  it("refuses a bad user property timestamp with VALUE_INVALID", () => {
    requestFails(up({ tier: { value: "x", timestamp_micros: "soon" } }), "VALUE_INVALID", "invalid_time");
  });

  it("refuses a duplicated user property with NAME_DUPLICATED", () => {
    const body = `{"client_id":"c","user_properties":{"tier":{"value":"a"},"tier":{"value":"b"}},"events":[{"name":"tap"}]}`;
    requestFails(body, "NAME_DUPLICATED", "duplicate_user_property", 400, "user_properties.tier");
  });
});

describe("event names", () => {
  it("maps page_view to pageview and keeps other names", () => {
    expect(acceptOne({ name: "page_view" }).name).toBe("pageview");
    expect(acceptOne({ name: "sign_up" }).name).toBe("sign_up");
    expect(acceptOne({ name: "Größe2" }).name).toBe("Größe2");
  });

  it("accepts a 40-character name", () => {
    expect(acceptOne({ name: "e".repeat(40) }).name).toBe("e".repeat(40));
  });

  it.each([["e".repeat(41)], ["_badEventName"], ["1st_event"], ["my event"], ["my-event"], ["my.event"], ["émoji😀"]])(
    "rejects the event name %j with NAME_INVALID",
    (name) => {
      eventFails({ name }, "NAME_INVALID", "invalid_name", "events[0].name");
    },
  );

  it.each([...GA4_RESERVED_EVENT_NAMES].map((n) => [n]))("rejects the reserved event name %j with NAME_RESERVED", (name) => {
    eventFails({ name }, "NAME_RESERVED", "reserved_name", "events[0].name");
  });

  it("reserves every name the GA4 documentation lists", () => {
    expect(GA4_RESERVED_EVENT_NAMES.size).toBe(35);
    for (const n of ["ad_click", "error", "first_visit", "session_start", "user_engagement", "os_update"]) expect(GA4_RESERVED_EVENT_NAMES.has(n)).toBe(true);
  });

  it.each([["google_signin"], ["ga_custom"], ["firebase_thing"]])("rejects the reserved prefix in %j with NAME_RESERVED", (name) => {
    eventFails({ name }, "NAME_RESERVED", "reserved_name");
  });

  it.each([
    ["absent", {}, "VALUE_REQUIRED", "missing_field"],
    ["empty", { name: "" }, "VALUE_REQUIRED", "missing_field"],
    ["a number", { name: 7 }, "VALUE_INVALID", "invalid_field"],
  ] as const)("rejects a name that is %s", (_what, event, validationCode, code) => {
    eventFails(event, validationCode, code, "events[0].name");
  });

  it.each([["a number", 1], ["null", null], ["an array", [{ name: "tap" }]], ["a string", "tap"]])("rejects an event that is %s with VALUE_INVALID", (_what, event) => {
    eventFails(event, "VALUE_INVALID", "invalid_event", "events[0]");
  });
});

describe("event parameters", () => {
  it("accepts 25 parameters, and items do not count", () => {
    expect(Object.keys(acceptOne({ name: "tap", params: props(25) }).props)).toHaveLength(25);
    const e = acceptOne({ name: "tap", params: { ...props(25), items: [{ item_id: "a" }] } });
    expect(e.props["items_count"]).toBe(1);
  });

  it("rejects more than 25 parameters with EXCEEDED_MAX_ENTITIES", () => {
    eventFails({ name: "tap", params: props(26) }, "EXCEEDED_MAX_ENTITIES", "too_many_params", "events[0].params");
  });

  it("accepts a 40-character parameter name and a 100-character value", () => {
    const e = acceptOne({ name: "tap", params: { ["k".repeat(40)]: "v".repeat(100), n: -2.5, b: false } });
    expect(e.props).toEqual({ ["k".repeat(40)]: "v".repeat(100), n: -2.5, b: false });
  });

  it.each([["k".repeat(41)], ["1param"], ["_param"], ["my param"], ["my-param"], [""]])("rejects the parameter name %j with NAME_INVALID", (name) => {
    eventFails({ name: "tap", params: { [name]: 1 } }, "NAME_INVALID", "invalid_param");
  });

  it.each([["google_x"], ["ga_session_id"], ["firebase_conversion"]])("rejects the reserved parameter name %j with NAME_RESERVED", (name) => {
    eventFails({ name: "tap", params: { [name]: 1 } }, "NAME_RESERVED", "reserved_param", `events[0].params.${name}`);
  });

  it("rejects a string value longer than 100 characters with VALUE_OUT_OF_BOUNDS", () => {
    eventFails({ name: "tap", params: { label: "v".repeat(101) } }, "VALUE_OUT_OF_BOUNDS", "param_too_long", "events[0].params.label");
  });

  it("counts characters, not UTF-16 units, against the limit", () => {
    expect(acceptOne({ name: "tap", params: { label: "😀".repeat(100) } }).props["label"]).toBe("😀".repeat(100));
  });

  it.each([
    ["page_location", 1000, (s: string) => `https://example.com/${s}`.slice(0, s.length)],
    ["page_referrer", 420, (s: string) => s],
    ["page_title", 300, (s: string) => s],
  ] as const)("lets %s be up to %i characters", (param, max, make) => {
    expect(validate(withEvent({ name: "page_view", params: { [param]: make("x".repeat(max)) } }))).toEqual([]);
    eventFails({ name: "page_view", params: { [param]: make("x".repeat(max + 1)) } }, "VALUE_OUT_OF_BOUNDS", "param_too_long");
  });

  it.each([
    ["an object", { a: 1 }],
    ["an array", ["a"]],
    ["null", null],
  ])("rejects a parameter value that is %s with VALUE_INVALID", (_what, value) => {
    eventFails({ name: "tap", params: { label: value } }, "VALUE_INVALID", "invalid_param", "events[0].params.label");
  });

  it.each([["a string", "a=1"], ["an array", [1]]])("rejects params that are %s with VALUE_INVALID", (_what, params) => {
    eventFails({ name: "tap", params }, "VALUE_INVALID", "invalid_field", "events[0].params");
  });

  it.each([["not a url"], ["/pricing"], ["ftp://example.com/"], ["javascript:alert(1)"], [42]])("rejects page_location %j with VALUE_INVALID", (loc) => {
    eventFails({ name: "page_view", params: { page_location: loc } }, "VALUE_INVALID", "invalid_url", "events[0].params.page_location");
  });

  it("rejects a non-string page_referrer, a non-numeric engagement_time_msec and a boolean session_id with VALUE_INVALID", () => {
    eventFails({ name: "tap", params: { page_referrer: 1 } }, "VALUE_INVALID", "invalid_param");
    eventFails({ name: "tap", params: { engagement_time_msec: "soon" } }, "VALUE_INVALID", "invalid_param");
    eventFails({ name: "tap", params: { engagement_time_msec: -1 } }, "VALUE_INVALID", "invalid_param");
    eventFails({ name: "tap", params: { session_id: true } }, "VALUE_INVALID", "invalid_param");
  });

  it("keeps a numeric session_id as a string", () => {
    expect(acceptOne({ name: "tap", params: { session_id: 1700000000 } }).props["ga_session_id"]).toBe("1700000000");
  });

  it("rejects a duplicated parameter with NAME_DUPLICATED", () => {
    const body = `{"client_id":"c","events":[{"name":"tap","params":{"label":"a","label":"b"}}]}`;
    const m = oneMessage(body);
    expect(m).toMatchObject({ fieldPath: "events[0].params.label", validationCode: "NAME_DUPLICATED" });
    const r = parse(body);
    expect(r.rejected.map((x) => x.code)).toEqual(["duplicate_param"]);
  });

  it("sees keys as duplicates after unescaping", () => {
    const body = `{"client_id":"c","events":[{"name":"tap","params":{"label":"a","\\u006cabel":"b"}}]}`;
    expect(oneMessage(body).validationCode).toBe("NAME_DUPLICATED");
  });
});

describe("items", () => {
  const item = (extra: Record<string, unknown> = {}) => ({ item_id: "SKU_1", ...extra });
  const withItems = (items: unknown) => ({ name: "purchase", params: { currency: "USD", value: 1, items } });

  it("accepts 200 items, and 10 custom parameters on an item besides the predefined ones", () => {
    expect(validate(withEvent(withItems(Array.from({ length: 200 }, () => item()))))).toEqual([]);
    const custom = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`c${i}`, i]));
    expect(validate(withEvent(withItems([item({ item_name: "Tee", item_category2: "Shirts", price: 1, quantity: 2, ...custom })])))).toEqual([]);
  });

  it("rejects more than 200 items and more than 10 custom item parameters with EXCEEDED_MAX_ENTITIES", () => {
    eventFails(withItems(Array.from({ length: 201 }, () => item())), "EXCEEDED_MAX_ENTITIES", "too_many_items", "events[0].params.items");
    const custom = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`c${i}`, i]));
    eventFails(withItems([item(custom)]), "EXCEEDED_MAX_ENTITIES", "too_many_item_params", "events[0].params.items[0]");
  });

  it("rejects an item with neither item_id nor item_name with VALUE_REQUIRED", () => {
    eventFails(withItems([{ price: 1 }]), "VALUE_REQUIRED", "missing_item_id", "events[0].params.items[0]");
    expect(validate(withEvent(withItems([{ item_name: "Tee" }])))).toEqual([]);
  });

  it("rejects bad items", () => {
    eventFails(withItems("SKU_1"), "VALUE_INVALID", "invalid_param", "events[0].params.items");
    eventFails(withItems(["SKU_1"]), "VALUE_INVALID", "invalid_param", "events[0].params.items[0]");
    eventFails(withItems([item({ "bad name": 1 })]), "NAME_INVALID", "invalid_param");
    eventFails(withItems([item({ ga_x: 1 })]), "NAME_RESERVED", "reserved_param");
    eventFails(withItems([item({ item_name: "n".repeat(101) })]), "VALUE_OUT_OF_BOUNDS", "param_too_long", "events[0].params.items[0].item_name");
    eventFails(withItems([item({ item_name: { a: 1 } })]), "VALUE_INVALID", "invalid_param");
  });

  it("rejects a duplicated item parameter with NAME_DUPLICATED", () => {
    const body = `{"client_id":"c","events":[{"name":"purchase","params":{"items":[{"item_id":"a"},{"item_id":"b","item_id":"c"}]}}]}`;
    expect(oneMessage(body)).toMatchObject({ fieldPath: "events[0].params.items[1].item_id", validationCode: "NAME_DUPLICATED" });
  });
});

describe("event times and ids", () => {
  it("uses the receive time without timestamp_micros, the request's when given, and the event's over the request's", () => {
    expect(acceptOne({ name: "tap" }).ts).toBe(NOW);
    expect(acceptOne({ name: "tap" }, { timestamp_micros: NOW_MICROS - 60_000_000 }).ts).toBe(NOW - 60_000);
    expect(acceptOne({ name: "tap", timestamp_micros: NOW_MICROS - 1_000_999 }, { timestamp_micros: NOW_MICROS - 60_000_000 }).ts).toBe(NOW - 1001);
  });

  it.each([["soon"], [-5], [2.5], [false]])("rejects an event timestamp_micros of %j with VALUE_INVALID", (ts) => {
    eventFails({ name: "tap", timestamp_micros: ts }, "VALUE_INVALID", "invalid_time", "events[0].timestamp_micros");
  });

  it("rejects an event more than 72 hours old or an hour ahead with VALUE_OUT_OF_BOUNDS, and accepts the bounds", () => {
    eventFails({ name: "tap", timestamp_micros: NOW_MICROS - 72 * HOUR * 1000 - 1000 }, "VALUE_OUT_OF_BOUNDS", "time_too_old");
    eventFails({ name: "tap", timestamp_micros: NOW_MICROS + HOUR * 1000 + 1000 }, "VALUE_OUT_OF_BOUNDS", "time_in_future");
    expect(acceptOne({ name: "tap", timestamp_micros: NOW_MICROS + HOUR * 1000 }).ts).toBe(NOW + HOUR);
    expect(acceptOne({ name: "tap", timestamp_micros: NOW_MICROS - 72 * HOUR * 1000 }).ts).toBe(NOW - 72 * HOUR);
  });

  it("derives the same ids when a request with timestamps is retried", () => {
    const body = { client_id: CID, timestamp_micros: NOW_MICROS - 9_000_000, events: [{ name: "tap" }, { name: "tap" }, { name: "scroll" }] };
    const a = parse(body, ctx({ firstSeq: 1 }));
    const b = parse(body, ctx({ firstSeq: 5000, receivedAt: NOW + 2000 }));
    expect(b.accepted.map((e) => e.id)).toEqual(a.accepted.map((e) => e.id));
    expect(new Set(a.accepted.map((e) => e.id)).size).toBe(3);
  });

  it("derives distinct ids for retries without timestamps", () => {
    const body = withEvent({ name: "tap" });
    expect(parse(body, ctx({ firstSeq: 1 })).accepted[0]?.id).not.toBe(parse(body, ctx({ firstSeq: 2 })).accepted[0]?.id);
  });

  it("derives different ids for different visitors and sites", () => {
    const body = (cid: string) => ({ client_id: cid, timestamp_micros: NOW_MICROS - 1000, events: [{ name: "tap" }] });
    const a = parse(body("a")).accepted[0]?.id;
    expect(parse(body("b")).accepted[0]?.id).not.toBe(a);
    expect(parse(body("a"), ctx(), "shop.example").accepted[0]?.id).not.toBe(a);
  });
});

describe("page URL", () => {
  it("uses page_location and page_referrer, and https://<site>/ without a page_location", () => {
    const e = acceptOne({ name: "page_view", params: { page_location: "http://example.com/a#b", page_referrer: "android-app://com.google.app/" } });
    expect([e.url, e.referrer]).toEqual(["http://example.com/a#b", "android-app://com.google.app/"]);
    expect(parse(withEvent({ name: "purchase" }), ctx(), "shop.example").accepted[0]?.url).toBe("https://shop.example/");
  });

  it("rejects an event without page_location when the site id is not a host name", () => {
    const r = parse(withEvent({ name: "purchase" }), ctx(), "not a host");
    expect(r.rejected.map((x) => x.code)).toEqual(["missing_url"]);
    expect(parse(withEvent({ name: "p", params: { page_location: "https://x.example/" } }), ctx(), "not a host").accepted).toHaveLength(1);
  });
});

describe("batches and the validator", () => {
  it("rejects only the bad events of a batch and consumes sequence numbers only for the good ones", () => {
    const r = parse({
      client_id: CID,
      events: [{ name: "a" }, { name: "session_start" }, { name: "b", params: { x: "y".repeat(101) } }, { name: "c" }],
    });
    expect(r.accepted.map((e) => [e.name, e.seq])).toEqual([
      ["a", 100],
      ["c", 101],
    ]);
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([
      [1, "reserved_name"],
      [2, "param_too_long"],
    ]);
    expect(r.rejected[0]?.message).toMatch(/^events\[1\]\.name: /);
  });

  it("lists every problem of a request, the request's first, then each event's", () => {
    const messages = validate({
      user_properties: { ga_x: { value: 1 } },
      events: [{ name: "ok" }, { name: "1bad", params: { ["p p"]: 1, long: "x".repeat(101) } }],
    });
    expect(messages.map((m) => [m.fieldPath, m.validationCode])).toEqual([
      ["client_id", "VALUE_REQUIRED"],
      ["user_properties.ga_x", "NAME_RESERVED"],
      ["events[1].name", "NAME_INVALID"],
      ["events[1].params.p p", "NAME_INVALID"],
      ["events[1].params.long", "VALUE_OUT_OF_BOUNDS"],
    ]);
  });

  it("returns an empty list for a valid request and uses the current time by default", () => {
    expect(validateGa4(JSON.stringify(withEvent({ name: "tap" })))).toEqual({ validationMessages: [] });
  });

  it.each<[Ga4ValidationCode, string]>([
    ["VALUE_INVALID", JSON.stringify(withEvent({ name: "tap", params: { x: null } }))],
    ["VALUE_REQUIRED", JSON.stringify({ events: [{ name: "tap" }] })],
    ["NAME_INVALID", JSON.stringify(withEvent({ name: "tap", params: { "1x": 1 } }))],
    ["NAME_RESERVED", JSON.stringify(withEvent({ name: "first_visit" }))],
    ["VALUE_OUT_OF_BOUNDS", JSON.stringify(withEvent({ name: "tap", params: { x: "y".repeat(101) } }))],
    ["EXCEEDED_MAX_ENTITIES", JSON.stringify(withEvent({ name: "tap", params: props(26) }))],
    ["NAME_DUPLICATED", `{"client_id":"c","events":[{"name":"tap","name":"tap"}]}`],
  ])("answers %s where GA4 does", (code, body) => {
    expect(validateGa4(body, NOW).validationMessages.map((m) => m.validationCode)).toEqual([code]);
  });
});

describe("readGa4Credentials", () => {
  it("reads measurement_id and api_secret from the query", () => {
    expect(readGa4Credentials(new URLSearchParams("measurement_id=G-ABC123&api_secret=s3cr3t"))).toEqual({ measurementId: "G-ABC123", apiSecret: "s3cr3t" });
  });

  it.each([
    ["api_secret=s", "missing_measurement_id"],
    ["measurement_id=G-1", "missing_api_secret"],
    ["measurement_id=&api_secret=s", "missing_measurement_id"],
  ])("refuses %j with %s", (q, code) => {
    try {
      readGa4Credentials(new URLSearchParams(q));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).code).toBe(code);
    }
  });
});

describe("duplicateKeyPaths", () => {
  it("finds duplicated keys at any depth, and none in distinct keys or arrays", () => {
    expect(duplicateKeyPaths(`{"a":1,"b":{"c":[{"d":1,"d":2}],"e":"x,\\"}{"},"a":3}`)).toEqual([
      ["b", "c", 0, "d"],
      ["a"],
    ]);
    expect(duplicateKeyPaths(`{"a":[1,2,{"a":1}],"b":{"a":2}}`)).toEqual([]);
    expect(duplicateKeyPaths(`[{"k":1},{"k":2},{"k":3,"k":4}]`)).toEqual([[2, "k"]]);
  });
});
