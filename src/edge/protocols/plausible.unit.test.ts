import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import type { ParsedBatch, RequestContext } from "./native.js";
import { parsePlausibleEvent } from "./plausible.js";
import { derivedVisitor } from "./visitor.js";

const DAY = 24 * 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const SITES = new Set(["dummy.site", "example.com", "app.example"]);
const CURL_UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.121 Safari/537.36 OPR/71.0.3770.284";

interface CtxOpts {
  readonly receivedAt?: number;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly firstSeq?: number;
}

const ctx = (o: CtxOpts = {}): RequestContext => {
  let seq = o.firstSeq ?? 100;
  return {
    receivedAt: o.receivedAt ?? NOW,
    ip: o.ip ?? "127.0.0.1",
    userAgent: o.userAgent ?? CURL_UA,
    visitorSalt: "salt-1",
    nextSeq: () => seq++,
    isKnownSite: (s) => SITES.has(s),
  };
};

const parse = (body: unknown, c: RequestContext = ctx()): ParsedBatch => parsePlausibleEvent(body, c);

const invalid = (body: unknown): InvalidInput => {
  try {
    parse(body);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error("expected parsePlausibleEvent to throw");
};

const page = { name: "pageview", url: "https://example.com/", domain: "example.com" };

const acceptOne = (body: unknown, c: RequestContext = ctx()) => {
  const r = parse(body, c);
  expect(r.rejected).toEqual([]);
  expect(r.accepted).toHaveLength(1);
  return r.accepted[0] as ParsedBatch["accepted"][number];
};

const rejectOne = (body: unknown): { code: string; message: string } => {
  const r = parse(body);
  expect(r.accepted).toEqual([]);
  expect(r.rejected).toHaveLength(1);
  expect(r.rejected[0]?.index).toBe(0);
  return r.rejected[0] as { code: string; message: string };
};

describe("examples from Plausible's Events API documentation", () => {
  it("records the curl example: a pageview of http://dummy.site, with the User-Agent and X-Forwarded-For it sends", () => {
    const c = ctx({ ip: "127.0.0.1", userAgent: CURL_UA });
    const r = parse('{"name":"pageview","url":"http://dummy.site","domain":"dummy.site"}', c);
    expect(r.site).toBe("dummy.site");
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0]).toMatchObject({
      site: "dummy.site",
      name: "pageview",
      url: "http://dummy.site/",
      referrer: "",
      ts: NOW,
      seq: 100,
      receivedAt: NOW,
      props: {},
      visitor: derivedVisitor("dummy.site", c),
    });
    expect(r.accepted[0]?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("records a custom event with props", () => {
    const e = acceptOne({ name: "Signup", url: "http://dummy.site/register", domain: "dummy.site", props: { author: "John Doe", logged_in: "false" } });
    expect(e.name).toBe("Signup");
    expect(e.props).toEqual({ author: "John Doe", logged_in: "false" });
  });

  it("records revenue as revenue_amount and revenue_currency", () => {
    const e = acceptOne('{"name":"Purchase","url":"http://dummy.site","domain":"dummy.site","revenue":{"currency":"USD","amount":1322.22}}');
    expect(e.props).toEqual({ revenue_amount: 1322.22, revenue_currency: "USD" });
  });

  it("records what the tracker sends: short keys, text/plain JSON, props as a JSON string, hash mode", () => {
    const body = JSON.stringify({
      n: "pageview",
      u: "https://example.com/docs#/intro",
      d: "example.com",
      r: "https://news.example/item?id=1",
      p: JSON.stringify({ author: "Jane", chapter: 3 }),
      h: 1,
    });
    const e = acceptOne(new TextEncoder().encode(body));
    expect(e).toMatchObject({
      site: "example.com",
      name: "pageview",
      url: "https://example.com/docs#/intro",
      referrer: "https://news.example/item?id=1",
      props: { author: "Jane", chapter: 3 },
    });
  });

  it("records an app screen with a made-up URL, as the docs suggest", () => {
    expect(acceptOne({ name: "pageview", url: "app://localhost/login", domain: "app.example" }).url).toBe("app://localhost/login");
  });
});

describe("fields", () => {
  it("accepts an already-parsed body", () => {
    expect(acceptOne(page).url).toBe("https://example.com/");
  });

  it("takes the first site of a comma-separated domain", () => {
    const r = parse({ ...page, domain: " example.com , rollup.example" });
    expect(r.site).toBe("example.com");
    expect(r.accepted[0]?.site).toBe("example.com");
  });

  it("prefers the short key when both forms are sent, and reads m/meta as props", () => {
    expect(acceptOne({ ...page, n: "short", name: "long" }).name).toBe("short");
    expect(acceptOne({ ...page, m: { a: "1" } }).props).toEqual({ a: "1" });
    expect(acceptOne({ ...page, meta: '{"b":2}' }).props).toEqual({ b: 2 });
  });

  it("treats null optional fields as absent", () => {
    const e = acceptOne({ ...page, r: null, p: null, revenue: null, i: null, h: null });
    expect([e.referrer, e.props]).toEqual(["", {}]);
  });

  it("accepts revenue with a string amount and a lower-case currency, in either key", () => {
    expect(acceptOne({ ...page, revenue: { currency: "eur", amount: "12.50" } }).props).toEqual({ revenue_amount: 12.5, revenue_currency: "EUR" });
    expect(acceptOne({ ...page, $: '{"currency":"GBP","amount":3}' }).props).toEqual({ revenue_amount: 3, revenue_currency: "GBP" });
  });

  it("records interactive, and the engagement time and scroll depth of engagement events", () => {
    expect(acceptOne({ ...page, name: "Outbound Link: Click", i: false }).props).toEqual({ interactive: false });
    const e = acceptOne({ n: "engagement", u: "https://example.com/a", d: "example.com", e: 15000, sd: 80 });
    expect(e.props).toEqual({ engagement_time_msec: 15000, scroll_depth: 80 });
  });

  it("keeps custom props of revenue's names below the revenue itself", () => {
    const e = acceptOne({ ...page, props: { revenue_amount: "x", other: true }, revenue: { currency: "USD", amount: 1 } });
    expect(e.props).toEqual({ revenue_amount: 1, other: true, revenue_currency: "USD" });
  });

  it("drops list, map and null prop values, as Plausible does, and keeps the rest", () => {
    expect(acceptOne({ ...page, props: { a: [1], b: { c: 1 }, n: null, ok: "yes", num: 0 } }).props).toEqual({ ok: "yes", num: 0 });
  });

  it("accepts 30 props, 300-byte names and 2000-byte values", () => {
    const props = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(acceptOne({ ...page, props }).props)).toHaveLength(30);
    const e = acceptOne({ ...page, props: { ["k".repeat(300)]: "é".repeat(1000) } });
    expect(e.props["k".repeat(300)]).toBe("é".repeat(1000));
  });

  it("accepts a 120-character name and a 2000-byte url and referrer", () => {
    expect(acceptOne({ ...page, name: "n".repeat(120) }).name).toBe("n".repeat(120));
    const url = `https://example.com/${"a".repeat(2000 - 20)}`;
    expect(acceptOne({ ...page, url, referrer: "r".repeat(2000) }).url).toBe(url);
  });
});

describe("request-level errors", () => {
  it.each([
    ["empty", ""],
    ["blank", "  "],
  ])("refuses a body that is %s", (_what, body) => {
    expect(invalid(body).code).toBe("empty_body");
  });

  it.each([
    ["not JSON", "{name:"],
    ["a JSON array", "[]"],
    ["a JSON string", '"pageview"'],
    ["null", null],
    ["an array", [page]],
    ["a number", 3],
  ])("refuses a body that is %s with invalid_body", (_what, body) => {
    const e = invalid(body);
    expect(e.code).toBe("invalid_body");
    expect(e.status).toBe(400);
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(invalid(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])).code).toBe("invalid_body");
  });

  it.each([
    ["absent", { name: "pageview", url: "https://example.com/" }, "missing_domain"],
    ["empty", { ...page, domain: "" }, "missing_domain"],
    ["only commas", { ...page, domain: " , " }, "missing_domain"],
    ["a number", { ...page, domain: 7 }, "invalid_domain"],
  ])("refuses a domain that is %s", (_what, body, code) => {
    const e = invalid(body);
    expect(e.code).toBe(code);
    expect(e.status).toBe(400);
  });

  it("refuses an unregistered domain with 404", () => {
    const e = invalid({ ...page, domain: "other.example,example.com" });
    expect(e.code).toBe("unknown_site");
    expect(e.status).toBe(404);
    expect(e.message).toContain("other.example");
  });
});

describe("event rejections", () => {
  it.each([
    ["name", { url: page.url, domain: page.domain }],
    ["name", { ...page, name: "" }],
    ["name", { ...page, name: "   " }],
    ["url", { name: "pageview", domain: page.domain }],
    ["url", { ...page, url: "" }],
  ])("rejects a missing %s with missing_field", (field, body) => {
    const r = rejectOne(body);
    expect(r.code).toBe("missing_field");
    expect(r.message).toContain(`"${field}"`);
  });

  it.each([
    ["name", { ...page, name: 5 }],
    ["url", { ...page, url: ["https://example.com/"] }],
    ["referrer", { ...page, referrer: 5 }],
    ["props", { ...page, props: [1, 2] }],
    ["props", { ...page, props: "author=Jane" }],
    ["props", { ...page, props: "[1]" }],
    ["interactive", { ...page, interactive: "no" }],
  ])("rejects a malformed %s with invalid_field", (field, body) => {
    const r = rejectOne(body);
    expect(r.code).toBe("invalid_field");
    expect(r.message).toContain(`"${field}"`);
  });

  it.each([
    ["name", { ...page, name: "n".repeat(121) }],
    ["url", { ...page, url: `https://example.com/${"a".repeat(2000)}` }],
    ["url", { ...page, url: `https://example.com/${"é".repeat(991)}` }],
    ["referrer", { ...page, referrer: "r".repeat(2001) }],
  ])("rejects a %s over its limit with field_too_long", (field, body) => {
    const r = rejectOne(body);
    expect(r.code).toBe("field_too_long");
    expect(r.message).toContain(`"${field}"`);
  });

  it.each([["not a url"], ["/relative"], ["data:text/html,hi"], ["javascript:alert(1)"]])("rejects url %j with invalid_url", (url) => {
    expect(rejectOne({ ...page, url }).code).toBe("invalid_url");
  });

  it("rejects more than 30 props with too_many_props", () => {
    const props = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i]));
    expect(rejectOne({ ...page, props }).code).toBe("too_many_props");
  });

  it("rejects a prop name over 300 bytes or a value over 2000 bytes with invalid_prop", () => {
    expect(rejectOne({ ...page, props: { ["k".repeat(301)]: "v" } }).code).toBe("invalid_prop");
    expect(rejectOne({ ...page, props: { ["é".repeat(151)]: "v" } }).code).toBe("invalid_prop");
    expect(rejectOne({ ...page, props: { k: "v".repeat(2001) } }).code).toBe("invalid_prop");
    expect(rejectOne({ ...page, props: { k: "é".repeat(1001) } }).code).toBe("invalid_prop");
  });

  it.each([
    ["not an object", 12],
    ["a string that is not JSON", "USD 12"],
    ["missing its currency", { amount: 1 }],
    ["with a currency that is not a code", { currency: "US Dollar", amount: 1 }],
    ["with a numeric currency", { currency: 840, amount: 1 }],
    ["missing its amount", { currency: "USD" }],
    ["with an amount that is not a number", { currency: "USD", amount: "twelve" }],
    ["with an empty amount", { currency: "USD", amount: "" }],
  ])("rejects revenue %s with invalid_revenue", (_what, revenue) => {
    expect(rejectOne({ ...page, revenue }).code).toBe("invalid_revenue");
  });

  it("consumes no sequence number for a rejected event", () => {
    let calls = 0;
    const c = { ...ctx(), nextSeq: () => ++calls };
    parse({ ...page, url: "nope" }, c);
    expect(calls).toBe(0);
  });
});

describe("visitor and ids", () => {
  it("derives a visitor that is stable for the same site, ip, user agent and UTC day", () => {
    const v = (o: CtxOpts, domain = "example.com") => acceptOne({ ...page, domain }, ctx(o)).visitor;
    const base = v({});
    const dayStart = Date.UTC(2026, 2, 10);
    expect(v({ receivedAt: dayStart })).toBe(base);
    expect(v({ receivedAt: dayStart + DAY })).not.toBe(base);
    expect(v({ ip: "127.0.0.2" })).not.toBe(base);
    expect(v({ userAgent: "curl/8" })).not.toBe(base);
    expect(v({}, "dummy.site")).not.toBe(base);
  });

  it("derives distinct event ids for repeated requests, since the receive sequence differs", () => {
    const a = acceptOne(page, ctx({ firstSeq: 1 })).id;
    expect(acceptOne(page, ctx({ firstSeq: 2 })).id).not.toBe(a);
    expect(acceptOne(page, ctx({ firstSeq: 1 })).id).toBe(a);
  });
});
