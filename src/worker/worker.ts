import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { SessionRules } from "../../actors/session/reducer.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import { Signal } from "../core/signal.js";
import type { PartitionLeases } from "../../infra/nats/leases.js";
import { ensurePartitionConsumer, type NatsNames } from "../../infra/nats/streams.js";
import type { ProjectionSink } from "../projection/sink.js";
import { processStep } from "./step.js";
import { VisitorRegistry, type PassivationPolicy } from "./visitors.js";

export interface WorkerDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly leases: PartitionLeases;
  readonly leaseTickMs: number;
  readonly log: EventLog;
  readonly sink: ProjectionSink;
  readonly rules: (site: string) => SessionRules;
  readonly hydrateLookbackMs: number;
  readonly passivation: PassivationPolicy;
  readonly report: (message: string, error?: unknown) => void;
}

export interface Worker {
  /** Events logged and projected so far. */
  readonly processed: () => number;
  readonly partitions: () => number[];
  /** Visitors with a live actor, with a snapshot, and those read back from the log so far. */
  readonly visitors: () => { live: number; snapshots: number; snapshotBytes: number; evicted: number; hydratedFromLog: number; skippedLogReads: number };
  /** Stops pulling, finishes and acks what was already delivered, hands the partitions back. */
  stop(): Promise<void>;
}

// Batches handled per step: enough rows for efficient writes, few enough that a step's synchronous work
// (thousands of actors) stays well under a second, so lease renewals and acks are not held up.
const MESSAGES_PER_STEP = 16;

/** One owned partition: its consumer, the batches delivered and not yet handled, and the step loop that handles them. */
interface Lane {
  readonly partition: number;
  readonly buffer: JsMsg[];
  readonly arrived: Signal;
  messages: ConsumerMessages | undefined;
  open: boolean;
  /** Ends once the lane is closed and its buffer handled. */
  loop: Promise<void>;
}

/**
 * Session worker: consumes the partitions whose leases it holds, one durable consumer and one
 * step loop each. Order only matters within a partition (a visitor's batches are always in
 * one), so partitions step concurrently: while one waits for the log or the projection
 * stream, another computes.
 */
export const startWorker = async (deps: WorkerDeps): Promise<Worker> => {
  const visitors = new VisitorRegistry(deps.log, deps.rules, deps.hydrateLookbackMs, deps.passivation);
  const lanes = new Map<number, Lane>();
  let running = true;
  let finished = false;
  let processed = 0;
  // When a batch last arrived on any lane: stop() waits for a quiet moment, so that late pull responses
  // are handed back (nak) while the connection still takes publishes.
  let lastArrival = 0;

  const runLane = async (lane: Lane): Promise<void> => {
    while (lane.open || lane.buffer.length > 0) {
      if (lane.buffer.length === 0) {
        await lane.arrived.wait();
        continue;
      }
      const batch = lane.buffer.splice(0, MESSAGES_PER_STEP);
      // Read the count only after the step: lanes run concurrently, and `processed += await …` would lose their updates.
      const handled = await processStep(batch, { log: deps.log, sink: deps.sink, visitors, report: deps.report });
      processed += handled;
      visitors.sweep();
      // Let timers (lease renewal) and I/O run between steps.
      await new Promise((r) => setImmediate(r));
    }
  };

  const open = async (p: number): Promise<void> => {
    await ensurePartitionConsumer(deps.jsm, deps.names, p);
    const consumer = await deps.js.consumers.get(deps.names.ingestStream, deps.names.partitionConsumer(p));
    const lane: Lane = { partition: p, buffer: [], arrived: new Signal(), messages: undefined, open: true, loop: Promise.resolve() };
    lane.messages = await consumer.consume({
      // The consumer's max_ack_pending bounds what is buffered; see ensurePartitionConsumer.
      max_messages: 16,
      callback: (msg) => {
        lastArrival = Date.now();
        // A batch that arrives after its lane has finished goes straight back for the next owner.
        if (finished || !lane.open) msg.nak();
        else {
          lane.buffer.push(msg);
          lane.arrived.notify();
        }
      },
    });
    lane.loop = runLane(lane);
    lanes.set(p, lane);
  };

  /** Stops a partition's consumer, lets its step in progress finish, and returns its undone batches to JetStream for the next owner. */
  const close = async (p: number): Promise<void> => {
    const lane = lanes.get(p);
    if (!lane) return;
    lanes.delete(p);
    await lane.messages?.close();
    const undone = lane.buffer.splice(0);
    lane.open = false;
    lane.arrived.notify();
    await lane.loop;
    for (const m of undone) m.nak();
  };

  const rebalance = async (): Promise<void> => {
    const changes = await deps.leases.tick();
    for (const p of changes.lost) {
      deps.report(`lost the lease of partition ${p}`);
      await close(p);
    }
    for (const p of changes.release) {
      await close(p);
      await deps.leases.release(p);
    }
    if (changes.acquired.length > 0) visitors.markCold();
    for (const p of changes.acquired) await open(p);
  };

  let nap: { timer: NodeJS.Timeout; done: () => void } | undefined;
  const leaseLoop = (async () => {
    while (running) {
      await rebalance().catch((e: unknown) => deps.report("lease renewal failed", e));
      await new Promise<void>((done) => {
        nap = { timer: setTimeout(done, deps.leaseTickMs), done };
      });
    }
  })();

  return {
    processed: () => processed,
    partitions: () => deps.leases.ownedPartitions(),
    visitors: () => ({ live: visitors.liveCount, snapshots: visitors.snapshotCount, snapshotBytes: visitors.snapshotBytes, evicted: visitors.evictedCount, hydratedFromLog: visitors.hydratedFromLog, skippedLogReads: visitors.skippedLogReads }),
    async stop() {
      running = false;
      if (nap) {
        clearTimeout(nap.timer);
        nap.done();
      }
      await leaseLoop;
      const all = [...lanes.values()];
      for (const lane of all) await lane.messages?.close();
      // Pull responses already on the wire still arrive for a moment after close; handle them too.
      await new Promise((r) => setTimeout(r, 100));
      for (const lane of all) {
        lane.open = false;
        lane.arrived.notify();
      }
      await Promise.all(all.map((lane) => lane.loop));
      finished = true;
      // A pull response later than the 100 ms above is handed back by the callback; wait until none came
      // for a while (at most 2 s) before the caller closes the connection, which would drop the nak.
      const quietBy = Date.now() + 2_000;
      while (Date.now() - lastArrival < 250 && Date.now() < quietBy) await new Promise((r) => setTimeout(r, 50));
      lanes.clear();
      await deps.leases.releaseAll();
    },
  };
};
