/**
 * The benchmark's traffic model: sites of very different sizes, visitors who come back for a
 * few sessions, sessions of a few pages, each page view followed by the interaction events a
 * tracker reports (scroll, click, engagement...), referrers and campaigns on landing, and a
 * tracker that flushes 1 to 25 events per request. Every event carries an id the generator
 * can map back to a number, so the harness can check that each acknowledged event arrived.
 */

export const SITE_COUNT = 20;
/** The site the freshness probe writes to; it gets no generated traffic. */
export const PROBE_SITE = "bench-probe";

export const siteIds = (): string[] => Array.from({ length: SITE_COUNT }, (_, i) => `bench-s${String(i).padStart(2, "0")}`);

// Site sizes follow a Zipf-like law: the first site gets about a quarter of the traffic.
const SITE_WEIGHTS = Array.from({ length: SITE_COUNT }, (_, i) => 1 / Math.pow(i + 1, 1.1));

const PAGES = [
  "/", "/pricing", "/features", "/docs", "/docs/install", "/docs/api", "/docs/faq", "/blog", "/blog/launch",
  "/blog/how-we-scaled", "/blog/release-2-0", "/about", "/careers", "/contact", "/signup", "/login", "/changelog",
  "/integrations", "/integrations/slack", "/customers", "/security", "/status", "/product/starter", "/product/team",
  "/product/enterprise", "/checkout", "/checkout/thanks", "/legal/privacy", "/legal/terms", "/search",
];
const PAGE_WEIGHTS = PAGES.map((_, i) => 1 / Math.pow(i + 1, 0.9));

const REFERRERS: readonly (readonly [string, number])[] = [
  ["", 38],
  ["https://www.google.com/", 28],
  ["https://www.bing.com/", 4],
  ["https://duckduckgo.com/", 3],
  ["https://t.co/x1y2z3", 5],
  ["https://www.facebook.com/", 5],
  ["https://www.linkedin.com/", 3],
  ["https://www.reddit.com/r/webdev/", 3],
  ["https://news.ycombinator.com/", 3],
  ["https://github.com/", 3],
  ["https://partner.example.org/reviews", 5],
];
const CAMPAIGNS = ["?utm_source=newsletter&utm_medium=email&utm_campaign=nov", "?utm_source=google&utm_medium=cpc&utm_campaign=brand", "?utm_source=partner&utm_medium=referral"];

const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
];

/** What may follow a page view on the same page, with its probability. */
const INTERACTIONS: readonly (readonly [string, number, (r: () => number) => string])[] = [
  ["scroll", 0.6, (r) => `{"depth":${25 * (1 + Math.floor(r() * 4))}}`],
  ["engagement", 0.5, (r) => `{"seconds":${1 + Math.floor(r() * 240)}}`],
  ["click", 0.4, (r) => `{"target":"${["cta", "nav", "footer", "card"][Math.floor(r() * 4)]}"}`],
  ["outbound", 0.08, () => `{"to":"https://github.com/"}`],
  ["video_play", 0.05, (r) => `{"video":"intro","position":${Math.floor(r() * 90)}}`],
  ["form_start", 0.05, () => `{"form":"newsletter"}`],
  ["signup", 0.02, (r) => `{"plan":"${r() < 0.7 ? "free" : "team"}"}`],
  ["purchase", 0.01, (r) => `{"value":${(9 + Math.floor(r() * 400)).toString()},"currency":"EUR"}`],
];

/** mulberry32: small, fast, deterministic. */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const cumulative = (weights: readonly number[]): number[] => {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
};
const SITE_CDF = cumulative(SITE_WEIGHTS);
const PAGE_CDF = cumulative(PAGE_WEIGHTS);
const REFERRER_CDF = cumulative(REFERRERS.map(([, w]) => w));

const pickIndex = (cdf: readonly number[], x: number): number => {
  for (let i = 0; i < cdf.length; i++) if (x < (cdf[i] as number)) return i;
  return cdf.length - 1;
};

/** 1 + a geometric number of extra tries, capped. */
const geometric = (r: () => number, pMore: number, cap: number): number => {
  let n = 1;
  while (n < cap && r() < pMore) n++;
  return n;
};

/** One event, already serialized except for its id, which is assigned when it is sent. */
export interface ModelEvent {
  readonly name: string;
  /** `"visitor":..,"name":..,"url":..,"referrer":..,"ts":..[,"props":..]` without braces or id. */
  readonly body: string;
}

export interface Visitor {
  readonly site: number;
  readonly userAgent: string;
  readonly events: ModelEvent[];
  /** Index of the next event to send. */
  next: number;
}

/**
 * A visitor's whole history, generated on arrival: 1 to 4 sessions over the past hours
 * (gaps longer than the 30-minute session timeout), 1 to 20 pages each, the last event a
 * few seconds ago. 85% of visitors send a client id; the rest are identified by the edge
 * from IP and user agent (each gets its own user agent so they stay apart).
 */
export const newVisitor = (r: () => number, tag: string, n: number, now: number): Visitor => {
  const serial = `${tag}${n.toString(36)}`;
  const site = pickIndex(SITE_CDF, r());
  const host = `s${String(site).padStart(2, "0")}.bench.example`;
  // Digits only: a base-36 serial such as "…bot" made the edge flag the visitor as a bot, and reports leave bots out.
  const userAgent = `${AGENTS[Math.floor(r() * AGENTS.length)] as string} bench/${n}`;
  const visitorField = r() < 0.85 ? `"visitor":"v-${serial}",` : "";
  const raw: { name: string; url: string; referrer: string; t: number; props: string }[] = [];
  const sessions = geometric(r, 0.3, 4);
  let t = 0;
  for (let s = 0; s < sessions; s++) {
    if (s > 0) t += 35 * 60_000 + Math.floor(r() * 3 * 3_600_000);
    const [referrer] = REFERRERS[pickIndex(REFERRER_CDF, r())] as readonly [string, number];
    const campaign = r() < 0.1 ? (CAMPAIGNS[Math.floor(r() * CAMPAIGNS.length)] as string) : "";
    const pages = geometric(r, 0.7, 20);
    for (let p = 0; p < pages; p++) {
      const url = `https://${host}${PAGES[pickIndex(PAGE_CDF, r())] as string}${p === 0 ? campaign : ""}`;
      raw.push({ name: "pageview", url, referrer: p === 0 ? referrer : `https://${host}/`, t, props: "" });
      let u = t;
      for (const [name, p2, props] of INTERACTIONS) {
        if (r() >= p2) continue;
        u += 1_000 + Math.floor(r() * 15_000);
        raw.push({ name, url, referrer: "", t: u, props: props(r) });
      }
      t = u + 10_000 + Math.floor(r() * 110_000);
    }
  }
  // Shift the history so that its last event happened a few seconds before now.
  const last = raw.length > 0 ? (raw[raw.length - 1] as { t: number }).t : 0;
  const shift = now - 2_000 - Math.floor(r() * 30_000) - last;
  const events = raw.map((e) => ({
    name: e.name,
    body: `${visitorField}"name":"${e.name}","url":"${e.url}","referrer":"${e.referrer}","ts":${e.t + shift}${e.props ? `,"props":${e.props}` : ""}`,
  }));
  return { site, userAgent, events, next: 0 };
};

/** How many events the tracker flushes in its next request: 1 to 25. */
export const requestSize = (r: () => number): number => 1 + Math.floor(r() * 25);

export interface BuiltRequest {
  readonly body: string;
  readonly events: number;
  readonly pageviews: number;
}

/**
 * The JSON body of one request holding `count` events of the visitor starting at its next
 * one; event ids are `${tag}-${firstId + i}`.
 */
export const buildRequest = (v: Visitor, count: number, tag: string, firstId: number, siteId: string): BuiltRequest => {
  const parts: string[] = [];
  let pageviews = 0;
  const end = Math.min(v.events.length, v.next + count);
  for (let i = v.next, n = firstId; i < end; i++, n++) {
    const e = v.events[i] as ModelEvent;
    if (e.name === "pageview") pageviews++;
    parts.push(`{"id":"${tag}-${n}",${e.body}}`);
  }
  const events = end - v.next;
  v.next = end;
  return { body: `{"site":"${siteId}","events":[${parts.join(",")}]}`, events, pageviews };
};
