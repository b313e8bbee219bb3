import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { eventRow } from "../../src/worker/projection.js";
import { tsvRows } from "../../src/projection/tsv.js";
import { renumber, report, sampleEvents, timed } from "./sample-events.js";

/**
 * chDB alone: inserts of event projection rows (the worker's row shape) through the
 * project's store (openAnalyticsStore without a URL), in this process only: as TabSeparated
 * text, the way the store writer inserts them, and as row objects for comparison.
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
    const results: { rowsPerInsert: number; format: "tsv" | "objects"; rowsPerSec: number; insertsPerSec: number }[] = [];
    // TabSeparated text as the writer inserts it (encoding included), and, for comparison, row objects that the client encodes as JSON.
    const runs = opts.rowsPerInsert.flatMap((size) => [{ size, format: "tsv" as const }, ...(size === Math.max(...opts.rowsPerInsert) ? [{ size, format: "objects" as const }] : [])]);
    for (const { size, format } of runs) {
      let offset = 0;
      const r = await timed(opts.durationMs, async () => {
        const rows = renumber(base.slice(0, size), `r${size}${format}`, offset).map((event, i) => eventRow({ event, sessionId: `s-${offset + i}`, version: 1, source: "(direct)", medium: "(none)", channel: "Direct" }));
        offset += size;
        if (format === "tsv") await store.insertEncoded("events", "TabSeparated", tsvRows(rows, "events"));
        else await store.insert("events", rows);
        return rows.length;
      });
      results.push({ rowsPerInsert: size, format, rowsPerSec: Math.round(r.units / (r.ms / 1000)), insertsPerSec: Math.round((r.units / size / (r.ms / 1000)) * 10) / 10 });
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
