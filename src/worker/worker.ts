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
  readonly visitors: () => { live: number; snapshots: number; hydratedFromLog: number; skippedLogReads: number };
  /** Stops pulling, finishes and acks what was already delivered, hands the partitions back. */
  stop(): Promise<void>;
}

// Batches handled per step: enough rows for efficient writes, few enough that a step's synchronous work
// (thousands of actors) stays well under a second, so lease renewals and acks are not held up.
const MESSAGES_PER_STEP = 16;

interface Tagged {
  readonly partition: number;
  readonly msg: JsMsg;
}

/**
 * Session worker: consumes the partitions whose leases it holds, one durable consumer
 * each, in one loop, so a visitor's batches (always in one partition) are handled in order.
 */
export const startWorker = async (deps: WorkerDeps): Promise<Worker> => {
  const visitors = new VisitorRegistry(deps.log, deps.rules, deps.hydrateLookbackMs, deps.passivation);
  const consumers = new Map<number, ConsumerMessages>();
  let buffer: Tagged[] = [];
  const arrived = new Signal();
  let running = true;
  let finished = false;
  let processed = 0;
  let inStep: Promise<void> = Promise.resolve();

  const open = async (p: number): Promise<void> => {
    await ensurePartitionConsumer(deps.jsm, deps.names, p);
    const consumer = await deps.js.consumers.get(deps.names.ingestStream, deps.names.partitionConsumer(p));
    consumers.set(
      p,
      await consumer.consume({
        // The consumer's max_ack_pending bounds what is buffered; see ensurePartitionConsumer.
        max_messages: 16,
        callback: (msg) => {
          // A batch that arrives after the loop has finished goes straight back for the next owner.
          if (finished) msg.nak();
          else {
            buffer.push({ partition: p, msg });
            arrived.notify();
          }
        },
      }),
    );
  };

  /** Stops a partition's consumer and returns its undone batches to JetStream for the next owner. */
  const close = async (p: number): Promise<void> => {
    await consumers.get(p)?.close();
    consumers.delete(p);
    await inStep;
    const mine = buffer.filter((t) => t.partition === p);
    buffer = buffer.filter((t) => t.partition !== p);
    for (const t of mine) t.msg.nak();
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

  const loop = (async () => {
    while (running || buffer.length > 0) {
      if (buffer.length === 0) {
        await arrived.wait();
        continue;
      }
      const batch = buffer.splice(0, MESSAGES_PER_STEP).map((t) => t.msg);
      const step = processStep(batch, { log: deps.log, sink: deps.sink, visitors, report: deps.report }).then((n) => {
        processed += n;
      });
      inStep = step;
      await step;
      visitors.sweep();
      // Let timers (lease renewal) and I/O run between steps.
      await new Promise((r) => setImmediate(r));
    }
  })();

  return {
    processed: () => processed,
    partitions: () => deps.leases.ownedPartitions(),
    visitors: () => ({ live: visitors.liveCount, snapshots: visitors.snapshotCount, hydratedFromLog: visitors.hydratedFromLog, skippedLogReads: visitors.skippedLogReads }),
    async stop() {
      running = false;
      if (nap) {
        clearTimeout(nap.timer);
        nap.done();
      }
      for (const c of consumers.values()) await c.close();
      consumers.clear();
      // Pull responses already on the wire still arrive for a moment after close; handle them too.
      await new Promise((r) => setTimeout(r, 100));
      arrived.notify();
      await loop;
      finished = true;
      await leaseLoop;
      await deps.leases.releaseAll();
    },
  };
};
