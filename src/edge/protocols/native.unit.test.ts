import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { MAX_EVENTS_PER_REQUEST, parseNativeCollect, type ParsedBatch, type RequestContext } from "./native.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const SITES = new Set(["site1", "site2"]);

interface CtxOpts {
  readonly receivedAt?: number;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly visitorSalt?: string;
  readonly firstSeq?: number;
}

const ctx = (o: CtxOpts = {}): RequestContext => {
  let seq = o.firstSeq ?? 100;
  return {
    receivedAt: o.receivedAt ?? NOW,
    ip: o.ip ?? "203.0.113.7",
    userAgent: o.userAgent ?? "Mozilla/5.0 (test)",
    visitorSalt: o.visitorSalt ?? "salt-1",
    nextSeq: () => seq++,
    isKnownSite: (s) => SITES.has(s),
  };
};

const parse = (body: unknown, c: RequestContext = ctx()): ParsedBatch => parseNativeCollect(body, c);

const invalid = (body: unknown): InvalidInput => {
  try {
    parse(body);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error("expected parseNativeCollect to throw");
};

const page = { name: "pageview", url: "https://example.com/" };

/** Parses one event of a batch and returns its single rejection. */
const rejectOne = (event: unknown): { code: string; message: string } => {
  const r = parse({ site: "site1", events: [event] });
  expect(r.accepted).toEqual([]);
  expect(r.rejected).toHaveLength(1);
  expect(r.rejected[0]?.index).toBe(0);
  return r.rejected[0] as { code: string; message: string };
};

const acceptOne = (event: Record<string, unknown>, c: RequestContext = ctx()) => {
  const r = parse({ site: "site1", events: [event] }, c);
  expect(r.rejected).toEqual([]);
  expect(r.accepted).toHaveLength(1);
  return r.accepted[0] as ParsedBatch["accepted"][number];
};

describe("forms", () => {
  it("accepts a single event whose body carries the site", () => {
    const r = parse({ site: "site1", name: "pageview", url: "https://Example.COM/a?b=1", referrer: "https://ref.example/" });
    expect(r.site).toBe("site1");
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(1);
    const e = r.accepted[0];
    expect(e).toMatchObject({
      site: "site1",
      name: "pageview",
      url: "https://example.com/a?b=1",
      referrer: "https://ref.example/",
      ts: NOW,
      seq: 100,
      receivedAt: NOW,
      props: {},
    });
    expect(e?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(e?.visitor).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("accepts a batch and keeps the order of its events", () => {
    const r = parse({
      site: "site2",
      events: [
        { name: "pageview", url: "https://example.com/1" },
        { name: "signup", url: "https://example.com/2", props: { plan: "pro", seats: 3, trial: false } },
      ],
    });
    expect(r.site).toBe("site2");
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => [e.site, e.name, e.url, e.seq])).toEqual([
      ["site2", "pageview", "https://example.com/1", 100],
      ["site2", "signup", "https://example.com/2", 101],
    ]);
    expect(r.accepted[1]?.props).toEqual({ plan: "pro", seats: 3, trial: false });
    expect(r.accepted[0]?.id).not.toBe(r.accepted[1]?.id);
  });

  it("defaults referrer to empty and treats null optional fields as absent", () => {
    const e = acceptOne({ ...page, referrer: null, ts: null, props: null, id: null, visitor: null });
    expect(e.referrer).toBe("");
    expect(e.ts).toBe(NOW);
    expect(e.props).toEqual({});
    expect(e.id).toHaveLength(22);
  });

  it("accepts exactly MAX_EVENTS_PER_REQUEST events", () => {
    const r = parse({ site: "site1", events: Array.from({ length: MAX_EVENTS_PER_REQUEST }, () => page) });
    expect(r.accepted).toHaveLength(MAX_EVENTS_PER_REQUEST);
    expect(new Set(r.accepted.map((e) => e.id)).size).toBe(MAX_EVENTS_PER_REQUEST);
  });
});

describe("request-level errors", () => {
  it.each([
    ["null", null],
    ["an array", [page]],
    ["a string", "pageview"],
    ["a number", 1],
    ["undefined", undefined],
  ])("refuses a body that is %s with invalid_body", (_what, body) => {
    const e = invalid(body);
    expect(e.code).toBe("invalid_body");
    expect(e.status).toBe(400);
  });

  it.each([
    ["absent", { ...page }],
    ["empty", { ...page, site: "" }],
    ["a number", { ...page, site: 1 }],
    ["null", { ...page, site: null }],
  ])("refuses a site that is %s with missing_site", (_what, body) => {
    const e = invalid(body);
    expect(e.code).toBe("missing_site");
    expect(e.status).toBe(400);
  });

  it("refuses an unregistered site with 404 unknown_site", () => {
    const e = invalid({ ...page, site: "other" });
    expect(e.code).toBe("unknown_site");
    expect(e.status).toBe(404);
    expect(e.message).toContain("other");
  });

  it.each([
    ["an object", {}],
    ["a string", "x"],
    ["null", null],
  ])("refuses events that are %s with invalid_events", (_what, events) => {
    const e = invalid({ site: "site1", events });
    expect(e.code).toBe("invalid_events");
    expect(e.status).toBe(400);
  });

  it("refuses an empty batch", () => {
    const e = invalid({ site: "site1", events: [] });
    expect(e.code).toBe("empty_batch");
    expect(e.status).toBe(400);
  });

  it("refuses more than MAX_EVENTS_PER_REQUEST events with 413", () => {
    const e = invalid({ site: "site1", events: Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => page) });
    expect(e.code).toBe("too_many_events");
    expect(e.status).toBe(413);
    expect(e.message).toContain(String(MAX_EVENTS_PER_REQUEST + 1));
  });

  it("checks the site before the events", () => {
    expect(invalid({ site: "nope", events: [] }).code).toBe("unknown_site");
  });
});

describe("event-level rejections", () => {
  it.each([
    ["a number", 42],
    ["null", null],
    ["an array", [page]],
    ["a string", "pageview"],
  ])("rejects an event that is %s with invalid_event", (_what, event) => {
    expect(rejectOne(event).code).toBe("invalid_event");
  });

  it.each([
    ["name", { url: page.url }],
    ["name", { name: "", url: page.url }],
    ["url", { name: "pageview" }],
    ["url", { name: "pageview", url: "" }],
  ])("rejects a missing %s with missing_field", (field, event) => {
    const r = rejectOne(event);
    expect(r.code).toBe("missing_field");
    expect(r.message).toContain(`"${field}"`);
  });

  it.each([
    ["name", { name: 5, url: page.url }],
    ["url", { name: "pageview", url: ["https://example.com/"] }],
    ["referrer", { ...page, referrer: 5 }],
    ["visitor", { ...page, visitor: 12 }],
    ["id", { ...page, id: { x: 1 } }],
    ["props", { ...page, props: [1, 2] }],
    ["props", { ...page, props: "a=1" }],
  ])("rejects a non-string or malformed %s with invalid_field", (field, event) => {
    const r = rejectOne(event);
    expect(r.code).toBe("invalid_field");
    expect(r.message).toContain(`"${field}"`);
  });

  it.each([
    ["name", 128, (s: string) => ({ name: s, url: page.url })],
    ["url", 2048, (s: string) => ({ name: "pageview", url: `https://example.com/${s}`.slice(0, s.length) })],
    ["referrer", 2048, (s: string) => ({ ...page, referrer: s })],
    ["visitor", 128, (s: string) => ({ ...page, visitor: s })],
    ["id", 128, (s: string) => ({ ...page, id: s })],
  ])("rejects a %s longer than %i characters with field_too_long and accepts it at the limit", (field, max, make) => {
    const r = rejectOne(make("x".repeat(max + 1)));
    expect(r.code).toBe("field_too_long");
    expect(r.message).toContain(`"${field}"`);
    const ok = parse({ site: "site1", events: [make("x".repeat(max))] });
    expect(ok.rejected).toEqual([]);
    expect(ok.accepted).toHaveLength(1);
  });

  it.each([["not a url"], ["/relative/path"], ["ftp://example.com/file"], ["javascript:alert(1)"], ["mailto:a@example.com"]])(
    "rejects url %j with invalid_url",
    (url) => {
      expect(rejectOne({ name: "pageview", url }).code).toBe("invalid_url");
    },
  );

  it.each([["yesterday"], [true], [{}], [Number.NaN], [Number.POSITIVE_INFINITY], [""]])("rejects ts %j with invalid_time", (ts) => {
    expect(rejectOne({ ...page, ts }).code).toBe("invalid_time");
  });

  it("rejects a time more than an hour ahead of the receive time, and accepts one hour exactly", () => {
    expect(rejectOne({ ...page, ts: NOW + HOUR + 1 }).code).toBe("time_in_future");
    expect(rejectOne({ ...page, ts: new Date(NOW + 2 * HOUR).toISOString() }).code).toBe("time_in_future");
    expect(acceptOne({ ...page, ts: NOW + HOUR }).ts).toBe(NOW + HOUR);
  });

  it("rejects a time more than 400 days old, and accepts 400 days exactly", () => {
    expect(rejectOne({ ...page, ts: NOW - 400 * DAY - 1 }).code).toBe("time_too_old");
    expect(rejectOne({ ...page, ts: 0 }).code).toBe("time_too_old");
    expect(acceptOne({ ...page, ts: NOW - 400 * DAY }).ts).toBe(NOW - 400 * DAY);
  });

  it.each([
    ["an object value", { a: { b: 1 } }],
    ["an array value", { a: [1] }],
    ["a null value", { a: null }],
    ["an infinite number", { a: Number.POSITIVE_INFINITY }],
    ["NaN", { a: Number.NaN }],
    ["a 65-character name", { ["k".repeat(65)]: 1 }],
  ])("rejects props with %s with invalid_prop", (_what, props) => {
    expect(rejectOne({ ...page, props }).code).toBe("invalid_prop");
  });

  it("rejects more than 25 props with too_many_props and accepts 25", () => {
    const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(rejectOne({ ...page, props: props(26) }).code).toBe("too_many_props");
    expect(Object.keys(acceptOne({ ...page, props: props(25) }).props)).toHaveLength(25);
  });

  it("accepts a 64-character prop name and truncates long string values to 2048 characters", () => {
    const e = acceptOne({ ...page, props: { ["k".repeat(64)]: "v".repeat(5000), n: -1.5, b: true } });
    expect(e.props).toEqual({ ["k".repeat(64)]: "v".repeat(2048), n: -1.5, b: true });
  });

  it("in a batch, rejects only the bad events and reports their indexes", () => {
    const r = parse({
      site: "site1",
      events: [
        { ...page, url: "https://example.com/0" },
        { name: "pageview", url: "nope" },
        { ...page, url: "https://example.com/2" },
        { ...page, ts: "not a time" },
        { ...page, url: "https://example.com/4" },
      ],
    });
    expect(r.accepted.map((e) => e.url)).toEqual(["https://example.com/0", "https://example.com/2", "https://example.com/4"]);
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([
      [1, "invalid_url"],
      [3, "invalid_time"],
    ]);
    expect(r.rejected.every((x) => x.message.length > 0)).toBe(true);
  });

  it("returns an empty accepted list, not an error, when every event is bad", () => {
    const r = parse({ site: "site1", events: [1, 2] });
    expect(r.accepted).toEqual([]);
    expect(r.rejected.map((x) => x.index)).toEqual([0, 1]);
  });
});

describe("ids", () => {
  it("keeps client event and visitor ids", () => {
    const e = acceptOne({ ...page, id: "evt-123", visitor: "visitor-abc" });
    expect(e.id).toBe("evt-123");
    expect(e.visitor).toBe("visitor-abc");
  });

  it("derives a visitor id when the client sends an empty one", () => {
    const derived = acceptOne({ ...page }).visitor;
    expect(acceptOne({ ...page, visitor: "" }).visitor).toBe(derived);
  });

  it("derives the same event ids for the same request when ts is given, whatever the sequence", () => {
    const body = {
      site: "site1",
      events: [
        { ...page, ts: NOW - 5000 },
        { ...page, ts: NOW - 5000 },
        { ...page, ts: NOW - 4000, name: "click" },
      ],
    };
    const a = parse(body, ctx({ firstSeq: 1 }));
    const b = parse(body, ctx({ firstSeq: 9_999, receivedAt: NOW + 1500 }));
    expect(b.accepted.map((e) => e.id)).toEqual(a.accepted.map((e) => e.id));
    expect(b.accepted.map((e) => e.seq)).not.toEqual(a.accepted.map((e) => e.seq));
    // Identical events at different indexes are still distinct.
    expect(new Set(a.accepted.map((e) => e.id)).size).toBe(3);
  });

  it("derives different event ids for different events with the same ts", () => {
    const ids = (ev: Record<string, unknown>) => acceptOne({ ...page, ts: NOW - 1000, ...ev }).id;
    const base = ids({});
    expect(ids({})).toBe(base);
    expect(ids({ name: "click" })).not.toBe(base);
    expect(ids({ url: "https://example.com/other" })).not.toBe(base);
    expect(ids({ ts: NOW - 999 })).not.toBe(base);
    expect(ids({ visitor: "someone" })).not.toBe(base);
  });

  it("derives distinct ids for retries without ts, since the receive sequence differs", () => {
    const body = { site: "site1", ...page };
    const a = parse(body, ctx({ firstSeq: 1 }));
    const b = parse(body, ctx({ firstSeq: 2 }));
    expect(a.accepted[0]?.id).not.toBe(b.accepted[0]?.id);
  });

  it("derives a visitor id that is stable for the same ip, user agent, salt and UTC day", () => {
    const v = (o: CtxOpts, site = "site1") => parse({ site, ...page }, ctx(o)).accepted[0]?.visitor;
    const base = v({});
    const dayStart = Date.UTC(2026, 2, 10, 0, 0, 0);
    expect(v({ receivedAt: dayStart })).toBe(base);
    expect(v({ receivedAt: dayStart + DAY - 1 })).toBe(base);
    expect(v({ receivedAt: dayStart + DAY })).not.toBe(base);
    expect(v({ receivedAt: dayStart - 1 })).not.toBe(base);
    expect(v({}, "site2")).not.toBe(base);
    expect(v({ ip: "203.0.113.8" })).not.toBe(base);
    expect(v({ userAgent: "curl/8" })).not.toBe(base);
    expect(v({ visitorSalt: "salt-2" })).not.toBe(base);
  });

  it("gives every event of a batch from one caller the same derived visitor", () => {
    const r = parse({ site: "site1", events: [page, { ...page, name: "click" }] });
    expect(r.accepted[0]?.visitor).toBe(r.accepted[1]?.visitor);
  });
});

describe("ts", () => {
  it("accepts epoch milliseconds and truncates fractions", () => {
    expect(acceptOne({ ...page, ts: NOW - 60_000 }).ts).toBe(NOW - 60_000);
    expect(acceptOne({ ...page, ts: NOW - 60_000 + 0.9 }).ts).toBe(NOW - 60_000);
  });

  it("accepts ISO-8601 strings, with Z or an offset", () => {
    expect(acceptOne({ ...page, ts: "2026-03-10T11:30:00.250Z" }).ts).toBe(Date.UTC(2026, 2, 10, 11, 30, 0, 250));
    expect(acceptOne({ ...page, ts: "2026-03-10T13:30:00+02:00" }).ts).toBe(Date.UTC(2026, 2, 10, 11, 30, 0));
  });

  it.each([["2026-03-10T11:30:00"], ["2026-03-10"], ["March 10, 2026"], ["2026-03-10 11:30:00Z"], ["2026-02-30T10:00:00Z"]])("rejects %j: no zone, or not ISO 8601", (ts) => {
    expect(rejectOne({ ...page, ts }).code).toBe("invalid_time");
  });

  it("uses the receive time when ts is absent", () => {
    expect(acceptOne({ ...page }, ctx({ receivedAt: NOW + 7 })).ts).toBe(NOW + 7);
  });
});
