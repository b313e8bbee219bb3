import type { PulseEvent } from "../../src/core/event.js";
import { newVisitor, rng, siteIds } from "../load/model.js";

/**
 * Events shaped as the edge stores them (PulseEvent), drawn from the bench traffic model,
 * for the ceilings that feed a part directly. Ids are `${tag}-${n}`.
 */
export const sampleEvents = (count: number, tag: string, seed = 7): PulseEvent[] => {
  const r = rng(seed);
  const sites = siteIds();
  const out: PulseEvent[] = [];
  const now = Date.now();
  let serial = 0;
  while (out.length < count) {
    const v = newVisitor(r, tag, serial++, now);
    for (const e of v.events) {
      if (out.length >= count) break;
      const fields = JSON.parse(`{${e.body}}`) as { visitor?: string; name: string; url: string; referrer: string; ts: number; props?: Record<string, string | number | boolean> };
      out.push({
        id: `${tag}-${out.length}`,
        site: sites[v.site] as string,
        visitor: fields.visitor ?? `derived-${tag}-${serial}`,
        name: fields.name,
        ts: fields.ts,
        seq: now * 1000 + out.length,
        receivedAt: now,
        url: fields.url,
        referrer: fields.referrer,
        props: fields.props ?? {},
      });
    }
  }
  return out;
};

/** Repeats `events` with fresh ids, so a part that dedupes on ids sees new events. */
export const renumber = (events: readonly PulseEvent[], tag: string, offset: number): PulseEvent[] =>
  events.map((e, i) => ({ ...e, id: `${tag}-${offset + i}`, visitor: `${e.visitor}-${offset}` }));

/** Runs `step` until `durationMs` has passed; returns the units done and the time taken. */
export const timed = async (durationMs: number, step: () => Promise<number>): Promise<{ units: number; ms: number }> => {
  const started = performance.now();
  let units = 0;
  while (performance.now() - started < durationMs) units += await step();
  return { units, ms: performance.now() - started };
};

/** One result line on stdout, read by the driver. */
export const report = (result: unknown): void => {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
};
