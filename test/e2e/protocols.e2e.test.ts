import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestPulse, type TestPulse } from "../harness/pulse.js";

const CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const SAFARI_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const GB_IP = "81.2.69.142";
const NL_IP = "193.0.6.139";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({
    log: "jetstream",
    sites: "site-a,site-b,plausible.example",
    env: { PULSE_GA4_STREAMS: "G-AAAA1111:site-a:secret-a,G-BBBB2222:site-b:secret-b", PULSE_TRUST_PROXY: "true" },
  });
});
afterAll(() => pulse?.dispose());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${pulse.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", "user-agent": CHROME_WINDOWS, "x-forwarded-for": GB_IP, ...headers } });

/** The event and its session as a report reads them, once the pipeline has written both. */
const landed = async (site: string, visitor: string) => {
  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  const db = store.database;
  const rows = await eventually(
    () =>
      store.query<Record<string, unknown>>(
        `SELECT e.site AS site, e.visitor_id AS visitor, e.session_id AS session, e.name AS name, e.path AS path, e.referrer AS referrer,
                e.browser AS browser, e.os AS os, e.device AS device, e.country AS country, e.region AS region, e.city AS city,
                s.source AS source, s.medium AS medium, s.channel AS channel
         FROM ${db}.events AS e FINAL
         JOIN (SELECT * FROM ${db}.sessions FINAL) AS s ON s.session_id = e.session_id AND s.site = e.site
         WHERE e.site = {site:String} AND e.visitor_id = {visitor:String} AND e.name = 'pageview'`,
        { site, visitor },
      ),
    (r) => r.length > 0,
  );
  return rows[0] ?? {};
};

describe("each protocol lands enriched in ClickHouse", () => {
  it("GA4 Measurement Protocol", async () => {
    const body = {
      client_id: "ga-client-1.1700000000",
      events: [{ name: "page_view", params: { page_location: "https://a.example/pricing?utm_source=newsletter&utm_medium=email", page_referrer: "https://www.google.com/" } }],
    };
    const res = await post("/mp/collect?measurement_id=G-AAAA1111&api_secret=secret-a", JSON.stringify(body));
    expect(res.status).toBe(204);
    expect(await landed("site-a", "ga-client-1.1700000000")).toMatchObject({
      site: "site-a",
      name: "pageview",
      path: "/pricing",
      referrer: "https://www.google.com/",
      source: "newsletter",
      medium: "email",
      channel: "Email",
      // A Measurement Protocol request comes from the site's server: its User-Agent and address are not the visitor's.
      browser: "",
      country: "",
    });
  });

  it("gtag-style hits, several per POST", async () => {
    const lines = [
      "v=2&tid=G-BBBB2222&cid=gtag-client-7&en=page_view&dl=https%3A%2F%2Fb.example%2Fdocs&dr=https%3A%2F%2Fnews.ycombinator.com%2F",
      "v=2&tid=G-BBBB2222&cid=gtag-client-7&en=scroll&dl=https%3A%2F%2Fb.example%2Fdocs&epn.percent_scrolled=90",
    ].join("\n");
    const res = await post("/g/collect", lines, { "content-type": "text/plain", "user-agent": SAFARI_IPHONE, "x-forwarded-for": NL_IP });
    expect(res.status).toBe(204);
    expect(await landed("site-b", "gtag-client-7")).toMatchObject({
      site: "site-b",
      path: "/docs",
      referrer: "https://news.ycombinator.com/",
      source: "news.ycombinator.com",
      medium: "referral",
      // GA4 counts Hacker News among social sites; its browser name for Safari on iOS is plain "Safari".
      channel: "Organic Social",
      browser: "Safari",
      os: "iOS",
      device: "mobile",
      country: "NL",
    });
  });

  it("Plausible events API (as Plausible's tracker sends it, text/plain)", async () => {
    const res = await post("/api/event", JSON.stringify({ n: "pageview", u: "https://plausible.example/blog?utm_source=duckduckgo", d: "plausible.example", r: "https://duckduckgo.com/" }), { "content-type": "text/plain" });
    expect(res.status).toBe(202);
    const store = pulse.store;
    if (!store) throw new Error("the test process owns the store");
    // Plausible sends no client id: the visitor is the edge's daily salted hash, so look it up by site.
    const [{ visitor } = { visitor: "" }] = await eventually(
      () => store.query<{ visitor: string }>(`SELECT visitor_id AS visitor FROM ${store.database}.events FINAL WHERE site = 'plausible.example'`, {}),
      (r) => r.length > 0,
    );
    expect(await landed("plausible.example", visitor)).toMatchObject({ path: "/blog", source: "duckduckgo", medium: "(not set)", browser: "Chrome", country: "GB" });
  });

  it("native POST /collect, with a bot flagged and left out of reports", async () => {
    const ok = await post("/collect", JSON.stringify({ site: "site-a", name: "pageview", url: "https://a.example/", visitor: "native-1" }));
    expect(ok.status).toBe(202);
    expect(await landed("site-a", "native-1")).toMatchObject({ channel: "Direct", source: "(direct)", browser: "Chrome", country: "GB" });
    const bot = await post("/collect", JSON.stringify({ site: "site-a", name: "pageview", url: "https://a.example/", visitor: "crawler-1" }), { "user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" });
    expect(bot.status).toBe(202);
    const store = pulse.store;
    if (!store) throw new Error("the test process owns the store");
    await eventually(
      () => store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.events FINAL WHERE visitor_id = 'crawler-1' AND is_bot = 1`, {}),
      (r) => Number(r[0]?.n) === 1,
    );
  });
});

describe("credentials", () => {
  it("an api_secret of one stream cannot write to another site", async () => {
    const body = JSON.stringify({ client_id: "x.1", events: [{ name: "page_view", params: { page_location: "https://b.example/" } }] });
    const res = await post("/mp/collect?measurement_id=G-BBBB2222&api_secret=secret-a", body);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_api_secret");
    const unknown = await post("/mp/collect?measurement_id=G-NOPE&api_secret=secret-a", body);
    expect(unknown.status).toBe(404);
  });

  it("the GA4 debug endpoint answers validation messages and stores nothing", async () => {
    const res = await post("/debug/mp/collect", JSON.stringify({ client_id: "dbg.1", events: [{ name: "_badEventName", params: {} }] }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { validationMessages: { validationCode: string }[] };
    expect(body.validationMessages.map((m) => m.validationCode)).toContain("NAME_INVALID");
  });
});
