import { passivate, spawnVisitor, ingestSlice } from "../../actors/session/machine.js";
import type { PulseEvent } from "../../src/core/event.js";

/**
 * Heap per live visitor actor and per passivated snapshot, measured in one process.
 * Run with --expose-gc: node --expose-gc dist/bench/worker/actor-memory.js [visitors=20000] [eventsPerVisitor=3]
 */
const N = Number(process.argv[2] ?? 20_000);
const PER = Number(process.argv[3] ?? 3);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const rules = { timeoutMs: 30 * 60_000, retainMs: 24 * 3_600_000 };
const events = (v: number): PulseEvent[] =>
  Array.from({ length: PER }, (_, k) => ({ id: `v${v}-e${k}`, site: "bench", visitor: `v${v}`, name: "pageview", ts: 1_790_000_000_000 + v * 1000 + k * 60_000, seq: v * PER + k, receivedAt: 0, url: `https://bench.example/page/${k}`, referrer: "https://www.google.com/", props: {} }));

gc();
const base = process.memoryUsage();
const live = new Map<string, ReturnType<typeof spawnVisitor>>();
for (let v = 0; v < N; v++) {
  const actor = spawnVisitor(rules, []);
  ingestSlice(actor, events(v));
  live.set(`v${v}`, actor);
}
gc();
const withActors = process.memoryUsage();
const snapshots = new Map<string, Buffer>();
for (const [key, actor] of live) snapshots.set(key, Buffer.from(JSON.stringify(passivate(actor))));
live.clear();
gc();
const withSnapshots = process.memoryUsage();
const per = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage): number => Math.round((b.heapUsed + b.external - (a.heapUsed + a.external)) / N);
console.log(
  JSON.stringify(
    { visitors: N, eventsPerVisitor: PER, bytesPerLiveActor: per(base, withActors), bytesPerSnapshot: per(base, withSnapshots), snapshots: snapshots.size },
    null,
    2,
  ),
);
