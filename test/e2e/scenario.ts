import { isDeepStrictEqual } from "node:util";
import { expect } from "vitest";
import { sessionize } from "../../actors/session/reducer.js";
import type { PulseEvent } from "../../src/core/event.js";
import { eventually, groupBy, postJson, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

const SITE = "site-a";
const DAY1 = Date.parse("2026-11-20T10:00:00Z");
const DAY2 = Date.parse("2026-11-21T10:00:00Z");
const MIN = 60_000;

interface SentEvent {
  readonly id: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly ts: number;
}

/**
 * 100 visitors x 10 events. Even visitors pause 40 minutes after their fifth event (two
 * sessions), odd ones do not (one); every fifth visitor's events fall on the second day;
 * every tenth event is a custom event rather than a page view.
 */
const dataset = (): SentEvent[] => {
  const out: SentEvent[] = [];
  for (let v = 0; v < 100; v++) {
    const base = (v % 5 === 0 ? DAY2 : DAY1) + v * MIN;
    for (let k = 0; k < 10; k++) {
      const gap = v % 2 === 0 && k >= 5 ? 40 * MIN : 0;
      out.push({ id: `v${v}-e${k}`, visitor: `visitor-${v}`, name: k === 9 ? "signup" : "pageview", url: `https://a.example/p/${k}`, ts: base + k * MIN + gap });
    }
  }
  return out;
};

/** What the reports must say, computed here from the dataset alone. */
const truth = (events: readonly SentEvent[]): Record<string, { pageviews: number; visitors: number; sessions: number }> => {
  const days: Record<string, { pageviews: number; visitors: Set<string>; sessions: number }> = {};
  const day = (ts: number): string => new Date(ts).toISOString().slice(0, 10);
  const at = (d: string) => (days[d] ??= { pageviews: 0, visitors: new Set(), sessions: 0 });
  for (const e of events) {
    const d = at(day(e.ts));
    d.visitors.add(e.visitor);
    if (e.name === "pageview") d.pageviews++;
  }
  const byVisitor = groupBy(events, (e) => e.visitor);
  for (const list of byVisitor.values()) {
    const asPulse = list.map((e, i): PulseEvent => ({ ...e, site: SITE, seq: i, receivedAt: e.ts, referrer: "", props: {} }));
    for (const s of sessionize(asPulse, { timeoutMs: 30 * MIN, retainMs: 0 })) at(day(s.start)).sessions++;
  }
  return Object.fromEntries(Object.entries(days).map(([d, v]) => [d, { pageviews: v.pageviews, visitors: v.visitors.size, sessions: v.sessions }]));
};

const send = async (url: string, events: readonly SentEvent[]): Promise<void> => {
  const byVisitor = groupBy(events, (e) => e.visitor);
  // Visitors in parallel, each visitor's requests in order, five events per request.
  await Promise.all(
    [...byVisitor.values()].map(async (list) => {
      for (let i = 0; i < list.length; i += 5) {
        const r = await postJson(`${url}/collect`, { site: SITE, events: list.slice(i, i + 5) });
        expect(r.status, JSON.stringify(r.json)).toBe(202);
        expect(r.json["accepted"]).toBe(5);
      }
    }),
  );
};

const report = async (client: QueryClient, id: string) => {
  const a = await client.query(id, { site: SITE, from: "2026-11-19", to: "2026-11-22", metrics: ["pageviews", "visitors", "sessions"], dimensions: ["date"] });
  expect(a.error).toBeUndefined();
  return Object.fromEntries(a.rows.map((r) => [r["date"], { pageviews: r["pageviews"], visitors: r["visitors"], sessions: r["sessions"] }]));
};

/** Acceptance: 1,000 events from 100 visitors, exact counts over /ws, the log holds them in order, a resend changes nothing. */
export const runIngestScenario = async (pulse: TestPulse): Promise<void> => {
  const events = dataset();
  const expected = truth(events);
  expect(Object.values(expected).reduce((a, d) => a + d.sessions, 0)).toBe(150);
  await send(pulse.url, events);

  const client = await QueryClient.open(pulse.url, pulse.token);
  try {
    let n = 0;
    await eventually(() => report(client, `wait-${n++}`), (r) => isDeepStrictEqual(r, expected));

    expect(await pulse.log.count(SITE)).toBe(1000);
    for (let v = 0; v < 100; v++) {
      const logged = await pulse.log.readVisitor(SITE, `visitor-${v}`, 0);
      expect(logged.map((e) => e.id)).toEqual(events.filter((e) => e.visitor === `visitor-${v}`).map((e) => e.id));
    }

    const before = (pulse.worker?.processed() ?? 0);
    await send(pulse.url, events);
    await eventually(async () => (pulse.worker?.processed() ?? 0), (p) => p >= before + 1000);
    expect(await report(client, "after-resend")).toEqual(expected);
    expect(await pulse.log.count(SITE)).toBe(1000);

    const totals = await client.query("totals", { site: SITE, from: "2026-11-19", to: "2026-11-22", metrics: ["pageviews", "visitors", "sessions"] });
    expect(totals.rows).toEqual([{ pageviews: 900, visitors: 100, sessions: 150 }]);
    expect(totals.done?.["rowCount"]).toBe(1);
  } finally {
    client.close();
  }
};
