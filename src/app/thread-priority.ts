import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

const TASKS = "/proc/self/task";

/** Linux's thread ids of this process, or none where /proc is not there. */
const threadIds = (): number[] => {
  try {
    return readdirSync(TASKS).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
};

/**
 * Lowers the scheduling priority of every thread of this process but the main one (the edge: it answers
 * beacons, and their ack latency is what a tracker waits on): the worker thread, chDB's query and
 * background threads, libuv's pool (where chDB runs a query's first thread), V8's helpers (Node leaves
 * them unnamed, so they cannot be told from the others). On two cores the store's inserts and rollup refreshes
 * otherwise take the core an ack needs; lowered, they still get every cycle the edge leaves.
 * Linux gives each thread its own nice value (setpriority on a thread id); elsewhere this does nothing.
 * Threads are created as work comes (chDB grows its pools), so a sweep runs every `everyMs`.
 */
export const startBackgroundNice = (nice: number, everyMs: number, say: (line: string) => void): (() => void) => {
  if (nice === 0 || process.platform !== "linux") return () => undefined;
  const done = new Set<number>();
  /** Lowers the threads not seen before; counts those lowered and those that could not be (gone meanwhile, or not permitted). */
  const sweep = (): { lowered: number; failed: number } => {
    let lowered = 0;
    let failed = 0;
    const alive = new Set(threadIds());
    for (const tid of done) if (!alive.has(tid)) done.delete(tid);
    for (const tid of alive) {
      if (tid === process.pid || done.has(tid)) continue;
      done.add(tid);
      try {
        setPriority(tid, nice);
        lowered++;
      } catch {
        failed++;
      }
    }
    return { lowered, failed };
  };
  const first = sweep();
  say(`background threads at nice ${nice} (${first.lowered} now${first.failed > 0 ? `, ${first.failed} not permitted` : ""}); the edge thread keeps its priority`);
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};
