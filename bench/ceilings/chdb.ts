import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { eventRow } from "../../src/worker/projection.js";
import { renumber, report, sampleEvents, timed } from "./sample-events.js";

/**
 * chDB alone: inserts of event projection rows (the worker's row shape) through the
 * project's store (openAnalyticsStore without a URL), in this process only.
 * argv[2]: {"durationMs":..,"rowsPerInsert":[..]}.
 */
interface Options {
  readonly durationMs: number;
  readonly rowsPerInsert: readonly number[];
}
const opts = JSON.parse(process.argv[2] ?? "{}") as Options;

const main = async (): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "pulse-bench-chdb-"));
  const store = await openAnalyticsStore({ url: undefined, chdbPath: join(dir, "chdb"), database: "bench_ceiling" });
  try {
    await store.init();
    const base = sampleEvents(Math.max(...opts.rowsPerInsert), "c");
    const results: { rowsPerInsert: number; rowsPerSec: number; insertsPerSec: number }[] = [];
    for (const size of opts.rowsPerInsert) {
      let offset = 0;
      const r = await timed(opts.durationMs, async () => {
        const rows = renumber(base.slice(0, size), `r${size}`, offset).map((event, i) => eventRow({ event, sessionId: `s-${offset + i}`, version: 1, source: "(direct)", medium: "(none)", channel: "Direct" }));
        offset += size;
        await store.insert("events", rows);
        return rows.length;
      });
      results.push({ rowsPerInsert: size, rowsPerSec: Math.round(r.units / (r.ms / 1000)), insertsPerSec: Math.round((r.units / size / (r.ms / 1000)) * 10) / 10 });
    }
    report({ inserts: results });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
};
main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
