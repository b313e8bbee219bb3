import { WatermarkPipeline, type QueueState } from "./watermark.js";

/** Reads the ingest stream, then the projection stream, in that order (see WatermarkPipeline). */
export type ReadQueues = () => Promise<{ readonly ingest: QueueState; readonly projection: QueueState }>;

export interface LiveWatcher {
  /** A store flush wrote rows of the watched site at `at`. */
  flushed(at: number): void;
  /** The watermark moved forward. */
  advanced(): void;
}

export interface LiveQueries {
  /** Called by the store writer after each successful insert, with the sites it wrote. */
  flushed(sites: ReadonlySet<string>): void;
  /** Follows one site; returns the function that stops following. */
  watch(site: string, watcher: LiveWatcher): () => void;
  /** The current watermark (ms since the epoch), undefined until the first one is known. */
  watermark(): number | undefined;
  stop(): void;
}

/**
 * The in-process link from the store writer to live subscriptions, in the process that owns the
 * store. It polls the two work-queue streams for the watermark only while someone watches: every
 * `intervalMs`, and at once after a flush, since a flush is what usually completes a snapshot.
 */
export const liveQueries = (read: ReadQueues, intervalMs: number, report: (message: string, error: unknown) => void, now: () => number = Date.now): LiveQueries => {
  const bySite = new Map<string, Set<LiveWatcher>>();
  const pipeline = new WatermarkPipeline();
  let watchers = 0;
  let polling = false;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const poll = async (): Promise<void> => {
    const before = pipeline.watermark;
    try {
      const at = now();
      const q = await read();
      pipeline.observe(at, q.ingest, q.projection);
    } catch (e) {
      report("reading stream progress for the watermark failed", e);
    }
    if (pipeline.watermark !== before) for (const set of [...bySite.values()]) for (const w of [...set]) w.advanced();
  };

  const poke = (): void => {
    if (stopped || watchers === 0) return;
    if (polling) {
      again = true;
      return;
    }
    clearTimeout(timer);
    polling = true;
    void poll().finally(() => {
      polling = false;
      if (again) {
        again = false;
        poke();
      } else if (!stopped && watchers > 0) timer = setTimeout(poke, intervalMs);
    });
  };

  return {
    flushed(sites) {
      const at = now();
      let touched = false;
      for (const site of sites) {
        const set = bySite.get(site);
        if (!set) continue;
        touched = true;
        for (const w of [...set]) w.flushed(at);
      }
      if (touched) poke();
    },
    watch(site, watcher) {
      const set = bySite.get(site) ?? new Set();
      bySite.set(site, set);
      set.add(watcher);
      watchers++;
      if (watchers === 1) poke();
      return () => {
        if (!set.delete(watcher)) return;
        watchers--;
        if (set.size === 0) bySite.delete(site);
        if (watchers === 0) clearTimeout(timer);
      };
    },
    watermark: () => pipeline.watermark,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
};
