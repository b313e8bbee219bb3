import { getHeapStatistics } from "node:v8";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { Worker } from "../worker/worker.js";

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${Math.round(bytes / MB)}`;

/** chDB's own accounting, from system.metrics: what its allocator tracks and what its caches hold. */
const STORE_METRICS = ["MemoryTracking", "MarkCacheBytes", "PrimaryIndexCacheBytes", "UncompressedCacheBytes", "QueryConditionCacheBytes", "PageCacheBytes", "MergesMutationsMemoryTracking"] as const;

/** The store's part of a line, from the sampler's latest reading and the peak of chDB's tracked memory since the last line. */
const storeLine = (by: ReadonlyMap<string, number>, peak: number): string =>
  `; store: tracked ${mb(by.get("MemoryTracking") ?? 0)} MB (at most ${mb(Math.max(peak, by.get("MemoryTracking") ?? 0))} since the last line; merges ${mb(by.get("MergesMutationsMemoryTracking") ?? 0)}), caches: marks ${mb(by.get("MarkCacheBytes") ?? 0)}, primary index ${mb(by.get("PrimaryIndexCacheBytes") ?? 0)}, uncompressed ${mb(by.get("UncompressedCacheBytes") ?? 0)}, query condition ${mb(by.get("QueryConditionCacheBytes") ?? 0)}, pages ${mb(by.get("PageCacheBytes") ?? 0)} MB`;

/**
 * A line every `everyMs` saying where this thread's memory is: the process's RSS (shared by
 * every thread), this thread's V8 heap, buffers outside it, and what the roles it runs hold
 * (live visitor actors and snapshots; chDB's tracked memory and caches). For finding out what
 * grows under load; off unless PULSE_MEMORY_REPORT is set.
 */
export const startMemoryReport = (opts: {
  readonly everyMs: number;
  readonly thread: string;
  readonly say: (line: string) => void;
  readonly worker: Worker | undefined;
  readonly store: AnalyticsStore | undefined;
}): (() => void) => {
  // chDB's tracked memory between lines: a rollup refresh can take and give back hundreds of MB within a line's
  // interval, so the metrics are read often and the line takes the latest reading and the peak since the last line.
  let latest: ReadonlyMap<string, number> = new Map();
  let peak = 0;
  let failed: string | undefined;
  let sampling = false;
  const store = opts.store;
  const sampler = store
    ? setInterval(() => {
        if (sampling) return;
        sampling = true;
        store
          .query<{ metric: string; value: string | number }>(`SELECT metric, value FROM system.metrics WHERE metric IN ({names:Array(String)})`, { names: STORE_METRICS })
          .then((rows) => {
            latest = new Map(rows.map((r) => [r.metric, Number(r.value)]));
            peak = Math.max(peak, latest.get("MemoryTracking") ?? 0);
            failed = undefined;
          })
          .catch((e: unknown) => (failed = (e as Error).message))
          .finally(() => (sampling = false));
      }, Math.min(100, opts.everyMs))
    : undefined;
  sampler?.unref();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    const v = opts.worker?.visitors();
    const parts =
      `memory (${opts.thread}) at ${new Date().toISOString().slice(11, 19)}: rss ${mb(m.rss)} MB; heap ${mb(h.used_heap_size)}/${mb(h.total_heap_size)} MB (limit ${mb(h.heap_size_limit)}), external ${mb(m.external)} MB, array buffers ${mb(m.arrayBuffers)} MB` +
      (v ? `; visitors: live ${v.live}, snapshots ${v.snapshots} (${mb(v.snapshotBytes)} MB), evicted ${v.evicted}, read from the log ${v.hydratedFromLog}, log reads skipped ${v.skippedLogReads}` : "");
    const line = store ? (failed !== undefined ? `; store: ${failed}` : storeLine(latest, peak)) : "";
    peak = 0;
    opts.say(parts + line);
  }, opts.everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (sampler) clearInterval(sampler);
  };
};
