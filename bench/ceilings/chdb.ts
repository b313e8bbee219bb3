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
 * text, the way the store writer inserts them; that text encoded beforehand (the engine alone, with the
 * same distinct bodies again after the eighth insert); and as row objects for comparison.
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
    const results: { rowsPerInsert: number; format: "tsv" | "tsv-encoded" | "objects"; rowsPerSec: number; insertsPerSec: number }[] = [];
    const largest = Math.max(...opts.rowsPerInsert);
    const rowsOf = (size: number, tag: string, offset: number): Record<string, unknown>[] =>
      renumber(base.slice(0, size), tag, offset).map((event, i) => eventRow({ event, sessionId: `s-${offset + i}`, version: 1, source: "(direct)", medium: "(none)", channel: "Direct" }));
    // TabSeparated text as the writer inserts it (rows built and encoded on the clock); the same text encoded
    // beforehand (the engine alone); and, for comparison, row objects that the client encodes as JSON.
    const runs = opts.rowsPerInsert.flatMap((size) => [
      { size, format: "tsv" as const },
      ...(size === largest ? [{ size, format: "tsv-encoded" as const }, { size, format: "objects" as const }] : []),
    ]);
    for (const { size, format } of runs) {
      let offset = 0;
      // Enough distinct bodies for the run, made before it starts.
      const encoded = format === "tsv-encoded" ? Array.from({ length: 8 }, (_, k) => tsvRows(rowsOf(size, `e${size}`, k * size), "events")) : [];
      let next = 0;
      const r = await timed(opts.durationMs, async () => {
        if (format === "tsv-encoded") {
          await store.insertEncoded("events", "TabSeparated", encoded[next++ % encoded.length] as Buffer);
          return size;
        }
        const rows = rowsOf(size, `r${size}${format}`, offset);
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
