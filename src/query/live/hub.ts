import { WatermarkPipeline, type QueueState } from "./watermark.js";

/** Reads the ingest stream, then the projection stream, in that order (see WatermarkPipeline). */
export type ReadQueues = () => Promise<{ readonly ingest: QueueState; readonly projection: QueueState }>;

export interface LiveWatcher {
  /** A store flush wrote rows of the watched site, all from projection messages that had arrived by `at`. */
  flushed(at: number): void;
  /** The watermark moved forward. */
  advanced(): void;
}

export interface LiveQueries {
  /** Called by the store writer for each projection message it receives. */
  arrived(): void;
  /** Called by the store writer after each successful insert, with the sites it wrote and when its newest message had arrived. */
  flushed(sites: ReadonlySet<string>, arrivedBy: number): void;
  /** Follows one site; returns the function that stops following. */
  watch(site: string, watcher: LiveWatcher): () => void;
  /** The current watermark (ms since the epoch), undefined until the first one is known. */
  watermark(): number | undefined;
  stop(): void;
}

/**
 * The in-process link from the store writer to live subscriptions, in the process that owns the
 * store. It reads the two work-queue streams for the watermark only while someone watches: every
 * `intervalMs`, and sooner (but at most once per `minGapMs`) when a projection message arrives,
 * so a snapshot falls between that arrival and the insert that follows, and after an insert,
 * which is what usually completes snapshots.
 *
 * Why a subscription may wait for the watermark to reach `arrivedBy`: a projection message is
 * published by a worker only after its ingest batch was stored and then logged, so it reaches the
 * writer after the edge had the PubAck that lets it answer 202. A watermark at or past the
 * arrival is thus past the 202 of every event in the insert (across machines, as far as their
 * clocks agree).
 */
export const liveQueries = (
  read: ReadQueues,
  timing: { readonly intervalMs: number; readonly minGapMs: number },
  report: (message: string, error: unknown) => void,
  now: () => number = Date.now,
): LiveQueries => {
  const bySite = new Map<string, Set<LiveWatcher>>();
  const pipeline = new WatermarkPipeline();
  let watchers = 0;
  let polling = false;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  let failing = false;

  const poll = async (): Promise<void> => {
    const before = pipeline.watermark;
    try {
      const at = now();
      const q = await read();
      pipeline.observe(at, q.ingest, q.projection);
      failing = false;
    } catch (e) {
      // Once per outage, not every 100 ms; nothing at shutdown, when the connection goes first.
      if (!failing && !stopped) report("reading stream progress for the watermark failed; the watermark waits", e);
      failing = true;
    }
    if (pipeline.watermark !== before) for (const set of [...bySite.values()]) for (const w of [...set]) w.advanced();
  };

  const schedule = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(poke, ms);
  };

  const poke = (): void => {
    if (stopped || watchers === 0) return;
    if (polling) {
      again = true;
      return;
    }
    const wait = lastStart + timing.minGapMs - now();
    if (wait > 0) {
      schedule(wait);
      return;
    }
    clearTimeout(timer);
    polling = true;
    lastStart = now();
    void poll().finally(() => {
      polling = false;
      if (again) {
        again = false;
        poke();
      } else if (!stopped && watchers > 0) schedule(timing.intervalMs);
    });
  };

  return {
    arrived: poke,
    flushed(sites, arrivedBy) {
      let touched = false;
      for (const site of sites) {
        const set = bySite.get(site);
        if (!set) continue;
        touched = true;
        for (const w of [...set]) w.flushed(arrivedBy);
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
