import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sessionize } from "../../actors/session/reducer.js";
import type { PulseEvent } from "../../src/core/event.js";
import { eventually, groupBy, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";

const RUNS = 25;
const SITES = Array.from({ length: RUNS }, (_, i) => `prop-${i}`);
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 10, 8, 0, 0);

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: SITES.join(",") });
});
afterAll(() => pulse?.dispose());

interface Sent {
  readonly id: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly ts: number;
}

/** Visitors with events at distinct minutes over a few hours, so gaps both under and over the timeout occur. */
const streamArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom("pageview", "pageview", "signup")), { minLength: 1, maxLength: 120 })
  .map((raw) => {
    const seen = new Set<string>();
    const out: Sent[] = [];
    for (const [v, minute, name] of raw) {
      const key = `${v}:${minute}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ id: `e${v}-${minute}`, visitor: `pv${v}`, name, url: `https://p.example/${minute % 7}`, ts: T0 + minute * MIN });
    }
    return out;
  });

/** Arrival order: shuffled, cut into requests, with some events sent twice. */
const deliveryArb = (events: readonly Sent[]) =>
  fc.tuple(fc.shuffledSubarray([...events], { minLength: events.length, maxLength: events.length }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 }), fc.subarray([...events]));

const requestsOf = (order: readonly Sent[], cuts: readonly number[]): Sent[][] => {
  const out: Sent[][] = [];
  let i = 0;
  for (let c = 0; i < order.length; c++) {
    const n = cuts[c % cuts.length] ?? 1;
    out.push(order.slice(i, i + n));
    i += n;
  }
  return out;
};

const chTime = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

it("gives, through the running pipeline, exactly the sessions the reducer computes on its own", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      streamArb.chain((events) => deliveryArb(events).map((d) => ({ events, d }))),
      async ({ events, d }) => {
        const site = SITES[run++] as string;
        const [order, cuts, resent] = d;
        // Requests go out one after another: arrival order is the shuffled order, late events included.
        for (const req of [...requestsOf(order, cuts), resent]) {
          if (req.length === 0) continue;
          const r = await postJson(`${pulse.url}/collect`, { site, events: req });
          expect(r.status, JSON.stringify(r.json)).toBe(202);
        }
        const store = pulse.store;
        if (!store) throw new Error("the test process owns the store");
        await eventually(
          async () => (await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.events FINAL WHERE site = {site:String}`, { site }))[0]?.n,
          (n) => Number(n) === events.length,
        );
        const expected = [...groupBy(events, (e) => e.visitor).values()]
          .flatMap((list) => sessionize(list.map((e, i): PulseEvent => ({ ...e, site, seq: i, receivedAt: 0, referrer: "", props: {} })), { timeoutMs: 30 * MIN, retainMs: 0 }))
          .map((s) => ({ session_id: s.id, visitor_id: s.visitor, start: chTime(s.start), end: chTime(s.end), pageviews: s.pageviews, events: s.events, landing_page: s.landingPage, exit_page: s.exitPage }))
          .sort((a, b) => (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0));
        // The worker acks before the store writer inserts; wait until the sessions settle on the answer.
        await eventually(
          () =>
            store.query<Record<string, unknown>>(
              `SELECT session_id, visitor_id, toString(start) AS start, toString(end) AS end, pageviews, events, landing_page, exit_page
               FROM ${store.database}.sessions FINAL WHERE site = {site:String} ORDER BY session_id`,
              { site },
            ),
          (rows) => JSON.stringify(rows) === JSON.stringify(expected),
          20_000,
        );
      },
    ),
    // Each run needs a site of its own, so no shrinking: a failure is reported as found.
    { numRuns: RUNS, seed: 20261127, endOnFailure: true },
  );
}, 300_000);
