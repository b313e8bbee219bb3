import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { parseGtagCollect } from "./gtag.js";
import { MAX_EVENTS_PER_REQUEST, type ParsedBatch, type RequestContext } from "./native.js";

const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const SITES = new Set(["example.com", "shop.example", "not a host"]);
const STREAMS: Readonly<Record<string, string>> = {
  "G-EXAMPLE1": "example.com",
  "G-EXAMPLE2": "example.com",
  "G-SHOP": "shop.example",
  "G-GONE": "deleted.example",
  "G-ODD": "not a host",
};
const resolve = (tid: string): string | undefined => STREAMS[tid];

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

const q = (s: string | Record<string, string>) => new URLSearchParams(s);
const parse = (query: string | Record<string, string>, body?: string | Uint8Array, c: RequestContext = ctx()): ParsedBatch =>
  parseGtagCollect(q(query), body, resolve, c);

const invalid = (query: string | Record<string, string>, body?: string): InvalidInput => {
  try {
    parse(query, body);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error("expected parseGtagCollect to throw");
};

const BASE = { v: "2", tid: "G-EXAMPLE1", cid: "1234567890.1700000000", en: "page_view", dl: "https://example.com/" };

const acceptOne = (params: Record<string, string>, c: RequestContext = ctx()) => {
  const r = parse({ ...BASE, ...params }, undefined, c);
  expect(r.rejected).toEqual([]);
  expect(r.accepted).toHaveLength(1);
  return r.accepted[0] as ParsedBatch["accepted"][number];
};

const rejectOne = (params: Record<string, string>, drop: readonly string[] = []): { code: string; message: string } => {
  const all: Record<string, string> = { ...BASE, ...params };
  for (const k of drop) delete all[k];
  const r = parse(all);
  expect(r.accepted).toEqual([]);
  expect(r.rejected).toHaveLength(1);
  expect(r.rejected[0]?.index).toBe(0);
  return r.rejected[0] as { code: string; message: string };
};

describe("hits as gtag.js sends them", () => {
  it("maps a page_view GET hit", () => {
    const hit =
      "v=2&tid=G-EXAMPLE1&gtm=45je5310v9&_p=1700000000123&gcd=13l3l3l3l1&cid=1234567890.1700000000&ul=en-us&sr=1920x1080" +
      "&uaa=x86&_s=1&sid=1700000000&sct=3&seg=1&dl=https%3A%2F%2Fexample.com%2Fblog%3Futm_source%3Dnews&dr=https%3A%2F%2Fwww.google.com%2F" +
      "&dt=Example%20Blog&en=page_view&_fv=1&_ss=1&_et=12&tfd=512";
    const r = parse(hit);
    expect(r.site).toBe("example.com");
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0]).toMatchObject({
      site: "example.com",
      visitor: "1234567890.1700000000",
      name: "pageview",
      url: "https://example.com/blog?utm_source=news",
      referrer: "https://www.google.com/",
      ts: NOW,
      seq: 100,
      receivedAt: NOW,
      props: {
        ga_session_id: "1700000000",
        ga_session_number: 3,
        ga_session_engaged: true,
        engagement_time_msec: 12,
        page_title: "Example Blog",
        language: "en-us",
        screen_resolution: "1920x1080",
        session_start: true,
        first_visit: true,
      },
    });
    expect(r.accepted[0]?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("maps a POST whose body holds one event per line, the URL's parameters shared by all", () => {
    const url = "v=2&tid=G-EXAMPLE1&_p=1700000000123&cid=111.222&sid=1700000000&sct=1&seg=1&dl=https%3A%2F%2Fexample.com%2Fa&dt=A&_s=4";
    const body = [
      "en=scroll&epn.percent_scrolled=90&_et=5000",
      "en=click&ep.link_url=https%3A%2F%2Fother.example%2F&ep.link_domain=other.example&ep.outbound=true",
      "en=view_item&dl=https%3A%2F%2Fexample.com%2Fb&ep.currency=EUR&epn.value=12.5&up.plan=pro&upn.seats=3",
    ].join("\r\n");
    const r = parse(url, `${body}\n\n`);
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => [e.name, e.url, e.visitor, e.seq])).toEqual([
      ["scroll", "https://example.com/a", "111.222", 100],
      ["click", "https://example.com/a", "111.222", 101],
      ["view_item", "https://example.com/b", "111.222", 102],
    ]);
    expect(r.accepted.map((e) => e.props)).toEqual([
      { percent_scrolled: 90, ga_session_id: "1700000000", ga_session_number: 1, ga_session_engaged: true, engagement_time_msec: 5000, page_title: "A" },
      {
        link_url: "https://other.example/",
        link_domain: "other.example",
        outbound: "true",
        ga_session_id: "1700000000",
        ga_session_number: 1,
        ga_session_engaged: true,
        page_title: "A",
      },
      {
        currency: "EUR",
        value: 12.5,
        up_plan: "pro",
        up_seats: 3,
        ga_session_id: "1700000000",
        ga_session_number: 1,
        ga_session_engaged: true,
        page_title: "A",
      },
    ]);
  });

  it("takes the body as bytes, and an empty body as a GET", () => {
    const r = parse(BASE, new TextEncoder().encode("en=a\nen=b"));
    expect(r.accepted.map((e) => e.name)).toEqual(["a", "b"]);
    expect(parse(BASE, "").accepted.map((e) => e.name)).toEqual(["pageview"]);
    expect(parse(BASE, " \n \r\n").accepted.map((e) => e.name)).toEqual(["pageview"]);
  });

  it("lets a line override the URL's parameters, the last of a repeated parameter winning", () => {
    const r = parse({ ...BASE, uid: "u-url" }, "en=a&uid=u-line&ep.x=1&ep.x=2");
    expect(r.accepted[0]?.props).toMatchObject({ user_id: "u-line", x: "2" });
  });

  it("gives hits without dl the site's root URL", () => {
    const r = parse({ v: "2", tid: "G-SHOP", cid: "c", en: "purchase" });
    expect(r.accepted[0]?.url).toBe("https://shop.example/");
    expect(parse({ v: "2", tid: "G-ODD", cid: "c", en: "purchase" }).rejected.map((x) => x.code)).toEqual(["missing_field"]);
  });

  it("accepts a hit whose measurement id is another stream of the same site", () => {
    const r = parse(BASE, "en=a\nen=b&tid=G-EXAMPLE2");
    expect(r.accepted).toHaveLength(2);
  });
});

describe("request-level errors", () => {
  it("refuses a request with no tid anywhere", () => {
    const e = invalid({ v: "2", cid: "c", en: "a" }, "en=b");
    expect(e.code).toBe("missing_tid");
    expect(e.status).toBe(400);
  });

  it("takes the request's measurement id from the first line that has one when the URL has none", () => {
    const r = parse({ v: "2", cid: "c" }, "en=a\nen=b&tid=G-SHOP\nen=c&tid=G-SHOP");
    expect(r.site).toBe("shop.example");
    expect(r.accepted.map((e) => e.name)).toEqual(["b", "c"]);
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([[0, "missing_field"]]);
  });

  it.each([["G-NOPE"], ["G-GONE"]])("refuses measurement id %s, unknown or of an unregistered site, with 404", (tid) => {
    const e = invalid({ ...BASE, tid });
    expect(e.code).toBe("unknown_site");
    expect(e.status).toBe(404);
  });

  it("refuses more than MAX_EVENTS_PER_REQUEST lines with 413, and accepts that many", () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `en=e${i}`).join("\n");
    expect(parse(BASE, lines(MAX_EVENTS_PER_REQUEST)).accepted).toHaveLength(MAX_EVENTS_PER_REQUEST);
    const e = invalid(BASE, lines(MAX_EVENTS_PER_REQUEST + 1));
    expect(e.code).toBe("too_many_events");
    expect(e.status).toBe(413);
  });

  it("refuses a body that is not UTF-8", () => {
    expect(() => parse(BASE, new Uint8Array([0x65, 0x6e, 0x3d, 0xff]))).toThrow(InvalidInput);
  });
});

describe("hit-level rejections", () => {
  it.each([["1"], ["3"], ["2.0"], [""]])("rejects v=%j with unsupported_version", (v) => {
    expect(rejectOne({ v }).code).toBe("unsupported_version");
  });

  it("rejects a hit without v", () => {
    expect(rejectOne({}, ["v"]).code).toBe("unsupported_version");
  });

  it.each([["cid"], ["en"]])("rejects a hit without %s with missing_field", (field) => {
    const r = rejectOne({}, [field]);
    expect(r.code).toBe("missing_field");
    expect(r.message).toContain(`"${field}"`);
    expect(rejectOne({ [field]: "" }).code).toBe("missing_field");
  });

  it("rejects a line whose tid is another site's", () => {
    const r = parse(BASE, "en=a\nen=b&tid=G-SHOP\nen=c&tid=G-NOPE");
    expect(r.accepted.map((e) => e.name)).toEqual(["a"]);
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([
      [1, "site_mismatch"],
      [2, "site_mismatch"],
    ]);
  });

  it.each([["e".repeat(41)], ["_private"], ["my event"], ["1st"]])("rejects en=%j with invalid_name", (en) => {
    expect(rejectOne({ en }).code).toBe("invalid_name");
  });

  it("accepts a 40-character event name", () => {
    expect(acceptOne({ en: "e".repeat(40) }).name).toBe("e".repeat(40));
  });

  it.each([["not a url"], ["/path"], ["ftp://example.com/"]])("rejects dl=%j with invalid_url", (dl) => {
    expect(rejectOne({ dl }).code).toBe("invalid_url");
  });

  it.each([
    ["dl", (s: string) => `https://example.com/${s}`.slice(0, s.length), 2048],
    ["dr", (s: string) => s, 2048],
    ["cid", (s: string) => s, 128],
    ["uid", (s: string) => s, 256],
    ["sid", (s: string) => s, 128],
  ] as const)("rejects %s longer than its limit with field_too_long, and accepts it at the limit", (field, make, max) => {
    expect(rejectOne({ [field]: make("x".repeat(max + 1)) }).code).toBe("field_too_long");
    acceptOne({ [field]: make("x".repeat(max)) });
  });

  it.each([
    ["epn.value", "ten"],
    ["epn.value", ""],
    ["upn.seats", "many"],
    ["ep.bad name", "x"],
    ["ep.1st", "x"],
    [`ep.${"k".repeat(41)}`, "x"],
    [`up.${"k".repeat(25)}`, "x"],
  ])("rejects %s=%j with invalid_param", (key, value) => {
    expect(rejectOne({ [key]: value }).code).toBe("invalid_param");
  });

  it("rejects a parameter sent both as ep and epn, and a user property both as up and upn", () => {
    expect(rejectOne({ "ep.value": "1", "epn.value": "1" }).code).toBe("duplicate_param");
    expect(rejectOne({ "up.plan": "a", "upn.plan": "1" }).code).toBe("duplicate_param");
  });

  it("rejects more than 25 event parameters and accepts 25", () => {
    const params = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i % 2 ? `ep.p${i}` : `epn.p${i}`, String(i)]));
    expect(rejectOne(params(26)).code).toBe("too_many_params");
    expect(Object.keys(acceptOne(params(25)).props)).toHaveLength(25);
  });

  it.each([
    ["sct", "first"],
    ["sct", "-1"],
    ["sct", "1.5"],
    ["seg", "yes"],
    ["seg", "2"],
    ["_et", "soon"],
    ["_et", "-4"],
  ])("rejects %s=%j with invalid_field", (key, value) => {
    expect(rejectOne({ [key]: value }).code).toBe("invalid_field");
  });

  it("in a batch, rejects only the bad lines and reports their indexes", () => {
    const r = parse(BASE, "en=ok1\nen=bad%20name\nv=1&en=old\nen=ok2\nepn.x=NaN&en=x");
    expect(r.accepted.map((e) => [e.name, e.seq])).toEqual([
      ["ok1", 100],
      ["ok2", 101],
    ]);
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([
      [1, "invalid_name"],
      [2, "unsupported_version"],
      [4, "invalid_param"],
    ]);
  });
});

describe("values", () => {
  it("cuts event parameter values at 100 characters, user properties at 36 and titles at 300", () => {
    const e = acceptOne({ "ep.label": "v".repeat(150), "up.tier": "t".repeat(50), dt: "d".repeat(400) });
    expect(e.props["label"]).toBe("v".repeat(100));
    expect(e.props["up_tier"]).toBe("t".repeat(36));
    expect(e.props["page_title"]).toBe("d".repeat(300));
  });

  it("cuts at characters, not UTF-16 units", () => {
    expect(acceptOne({ "ep.label": "😀".repeat(120) }).props["label"]).toBe("😀".repeat(100));
  });

  it("keeps numbers from epn as numbers, and seg=0 as false", () => {
    const e = acceptOne({ "epn.value": "-1.25e2", seg: "0", cu: "EUR" });
    expect(e.props).toMatchObject({ value: -125, ga_session_engaged: false, currency: "EUR" });
  });

  it("lets gtag's own parameters win over event parameters of the same name", () => {
    expect(acceptOne({ "ep.page_title": "from ep", dt: "from dt" }).props["page_title"]).toBe("from dt");
  });
});

describe("ids", () => {
  const hit = { ...BASE, _p: "1700000000123", _s: "7" };

  it("derives the same ids for a retried request that carries _p and _s", () => {
    const a = parse(hit, "en=a\nen=a\nen=b", ctx({ firstSeq: 1 }));
    const b = parse(hit, "en=a\nen=a\nen=b", ctx({ firstSeq: 900, receivedAt: NOW + 3000 }));
    expect(b.accepted.map((e) => e.id)).toEqual(a.accepted.map((e) => e.id));
    expect(new Set(a.accepted.map((e) => e.id)).size).toBe(3);
  });

  it("derives different ids for another hit counter, page load, visitor or site", () => {
    const id = (p: Record<string, string>) => parse({ ...hit, ...p }).accepted[0]?.id;
    const base = id({});
    expect(id({})).toBe(base);
    expect(id({ _s: "8" })).not.toBe(base);
    expect(id({ _p: "1700000000124" })).not.toBe(base);
    expect(id({ cid: "other" })).not.toBe(base);
    expect(id({ tid: "G-SHOP" })).not.toBe(base);
  });

  it("derives distinct ids for retries without _p and _s, since the receive sequence differs", () => {
    const a = parse(BASE, undefined, ctx({ firstSeq: 1 })).accepted[0]?.id;
    const b = parse(BASE, undefined, ctx({ firstSeq: 2 })).accepted[0]?.id;
    expect(a).not.toBe(b);
  });
});
