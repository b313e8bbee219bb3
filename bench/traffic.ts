import { rng } from "./load/model.js";

/**
 * Synthetic visitors for the demo and the benchmarks: sessions of a few page views
 * with referrers, spread over past days, sent the way a tracker would send them.
 */
export interface TrafficOptions {
  readonly url: string;
  readonly site: string;
  readonly visitors: number;
  readonly days: number;
  readonly concurrency: number;
  readonly now: number;
  /** Deterministic runs: the same seed sends the same events. */
  readonly seed: number;
}

export interface TrafficResult {
  readonly requests: number;
  readonly accepted: number;
  readonly failed: number;
  readonly ms: number;
}

// Synthetic visitors browse like people: the edge reads the User-Agent for device and bot detection.
const BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const PAGES = ["/", "/pricing", "/docs", "/docs/install", "/blog", "/blog/launch", "/about", "/signup"];
const REFERRERS = ["", "", "https://www.google.com/", "https://news.ycombinator.com/", "https://twitter.com/", "https://duckduckgo.com/"];

interface Beacon {
  readonly id: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly ts: number;
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;

/** One visitor's sessions: 1 to 3 visits on different days, each 1 to 6 page views a minute or two apart. */
const visitorEvents = (r: () => number, v: number, opts: TrafficOptions): Beacon[] => {
  const out: Beacon[] = [];
  const visits = 1 + Math.floor(r() * 3);
  for (let s = 0; s < visits; s++) {
    let ts = opts.now - Math.floor(r() * opts.days) * 86_400_000 - Math.floor(r() * 80_000_000) - 3_600_000;
    const referrer = pick(r, REFERRERS);
    const views = 1 + Math.floor(r() * 6);
    for (let k = 0; k < views; k++) {
      out.push({ id: `demo-${opts.seed}-${v}-${s}-${k}`, visitor: `demo-visitor-${opts.seed}-${v}`, name: "pageview", url: `https://${opts.site}.example${pick(r, PAGES)}`, referrer: k === 0 ? referrer : "", ts });
      ts += 20_000 + Math.floor(r() * 120_000);
    }
    if (r() < 0.2) out.push({ id: `demo-${opts.seed}-${v}-${s}-signup`, visitor: `demo-visitor-${opts.seed}-${v}`, name: "signup", url: `https://${opts.site}.example/signup`, referrer: "", ts });
  }
  return out;
};

export const sendTraffic = async (opts: TrafficOptions, progress: (done: number, total: number) => void = () => undefined): Promise<TrafficResult> => {
  const r = rng(opts.seed);
  const perVisitor = Array.from({ length: opts.visitors }, (_, v) => visitorEvents(r, v, opts));
  const started = Date.now();
  let requests = 0;
  let accepted = 0;
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < perVisitor.length) {
      const events = perVisitor[next++] ?? [];
      try {
        const res = await fetch(`${opts.url}/collect`, { method: "POST", headers: { "content-type": "application/json", "user-agent": BROWSER_UA }, body: JSON.stringify({ site: opts.site, events }) });
        const body = (await res.json()) as { accepted?: number };
        if (res.status === 202) accepted += body.accepted ?? 0;
        else failed += events.length;
      } catch {
        failed += events.length;
      }
      requests++;
      if (requests % 50 === 0) progress(requests, perVisitor.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  if (requests % 50 !== 0) progress(requests, perVisitor.length);
  return { requests, accepted, failed, ms: Date.now() - started };
};
