import { expect, it } from "vitest";
import { liveQueries, type LiveWatcher } from "./hub.js";
import type { QueueState } from "./watermark.js";

const empty = (last: number): QueueState => ({ first: last + 1, last, messages: 0 });

/** A watcher that records what it was told. */
const recorder = (): LiveWatcher & { flushes: number[]; advances: number } => {
  const r = {
    flushes: [] as number[],
    advances: 0,
    flushed: (at: number) => void r.flushes.push(at),
    advanced: () => void r.advances++,
  };
  return r;
};

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

it("tells a flush only to the watchers of the sites it wrote, and reads the queues only while someone watches", async () => {
  let reads = 0;
  let clock = 1000;
  const live = liveQueries(
    async () => {
      reads++;
      return { ingest: empty(5), projection: empty(7) };
    },
    { intervalMs: 60_000, minGapMs: 50 },
    (m) => {
      throw new Error(m);
    },
    () => clock,
  );
  try {
    live.flushed(new Set(["a"]), 900);
    live.arrived();
    await settle();
    expect(reads).toBe(0);
    expect(live.watermark()).toBeUndefined();

    const a = recorder();
    const b = recorder();
    const stopA = live.watch("a", a);
    live.watch("b", b);
    await settle();
    // The first watcher starts a reading; with both queues empty the watermark is its time.
    expect(reads).toBe(1);
    expect(live.watermark()).toBe(1000);
    expect(a.advances).toBe(1);

    clock = 2000;
    live.flushed(new Set(["b", "c"]), 1990);
    await settle();
    expect(a.flushes).toEqual([]);
    expect(b.flushes).toEqual([1990]);
    // A flush someone watches leads to a reading at once, not after the 60 s interval.
    expect(reads).toBe(2);
    expect(live.watermark()).toBe(2000);

    clock = 3000;
    live.flushed(new Set(["c"]), 2990);
    await settle();
    expect(reads).toBe(2);

    // An arriving projection message leads to a reading too, but at most one per 50 ms of the clock.
    live.arrived();
    await settle();
    expect(reads).toBe(3);
    live.arrived();
    await settle();
    expect(reads).toBe(3);
    clock = 3100;
    await new Promise((r) => setTimeout(r, 80));
    expect(reads).toBe(4);

    stopA();
    live.flushed(new Set(["a"]), 3090);
    await settle();
    expect(a.flushes).toEqual([]);
  } finally {
    live.stop();
  }
});
