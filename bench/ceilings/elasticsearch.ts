import { elasticsearchEventLog } from "../../infra/elasticsearch/eventlog.js";
import { renumber, report, sampleEvents, timed } from "./sample-events.js";

/**
 * Elasticsearch alone, through the project's event log (infra/elasticsearch/eventlog.ts):
 * bulk appends as the worker makes them, and the history lookup of a visitor the log has
 * never seen, as the worker makes it for every new visitor.
 * argv[2]: {"url":..,"namespace":..,"durationMs":..,"eventsPerBulk":..,"concurrency":..}.
 */
interface Options {
  readonly url: string;
  readonly namespace: string;
  readonly durationMs: number;
  readonly eventsPerBulk: number;
  readonly concurrency: number;
}
const opts = JSON.parse(process.argv[2] ?? "{}") as Options;

const main = async (): Promise<void> => {
  const log = elasticsearchEventLog(opts.url, opts.namespace);
  try {
    await log.init();
    const base = sampleEvents(opts.eventsPerBulk, "c");
    let offset = 0;
    // A fresh node is still compiling and creating the index: warm it up unmeasured.
    await timed(3_000, async () => {
      const chunk = renumber(base, "ew", offset);
      offset += chunk.length;
      await log.append(chunk);
      return chunk.length;
    });
    const bulk = await timed(opts.durationMs, async () => {
      const calls = Array.from({ length: opts.concurrency }, () => {
        const chunk = renumber(base, "eb", offset);
        offset += chunk.length;
        return log.append(chunk).then(() => chunk.length);
      });
      return (await Promise.all(calls)).reduce((a, b) => a + b, 0);
    });
    let serial = 0;
    const lookups = (): Promise<unknown> => Promise.all(Array.from({ length: 16 }, () => log.readVisitor("bench-s00", `never-seen-${serial++}`, 0)));
    const span = Math.min(opts.durationMs, 4000);
    // Lookups alone (the index is refreshed once, by the first).
    const lookup = await timed(span, async () => {
      await lookups();
      return 16;
    });
    // A worker step in miniature: a bulk append, then lookups, which first refresh so the log reads its own writes.
    const round = await timed(span, async () => {
      await log.append(renumber(base.slice(0, 500), "el", offset));
      offset += 500;
      await lookups();
      return 1;
    });
    const perSec = (r: { units: number; ms: number }): number => Math.round(r.units / (r.ms / 1000));
    report({
      bulk: { eventsPerBulk: opts.eventsPerBulk, concurrency: opts.concurrency, eventsPerSec: perSec(bulk) },
      visitorLookup: { concurrency: 16, visitorsPerSec: perSec(lookup) },
      appendThenLookup: { eventsPerAppend: 500, lookups: 16, roundsPerSec: Math.round((round.units / (round.ms / 1000)) * 10) / 10 },
    });
  } finally {
    await log.close();
    await fetch(`${opts.url}/${opts.namespace}-events-*`, { method: "DELETE" }).catch(() => undefined);
  }
};
main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
