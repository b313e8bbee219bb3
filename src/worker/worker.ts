import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { SessionRules } from "../../actors/session/reducer.js";
import type { PulseEvent } from "../core/event.js";
import { StoreError } from "../core/errors.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import type { NatsNames } from "../../infra/nats/streams.js";
import { eventRow, sessionRow, tombstoneRow } from "./projection.js";
import { VisitorRegistry, groupByVisitor } from "./visitors.js";

export interface WorkerDeps {
  readonly js: JetStreamClient;
  readonly names: NatsNames;
  readonly log: EventLog;
  readonly store: AnalyticsStore;
  readonly rules: SessionRules;
  readonly hydrateLookbackMs: number;
  readonly report: (message: string, error?: unknown) => void;
}

export interface Worker {
  /** Events logged and projected so far. */
  readonly processed: () => number;
  /** Stops pulling, finishes and acks what was already delivered. */
  stop(): Promise<void>;
}

// Batches handled per step: enough rows for one efficient insert, few enough to ack well within ack_wait.
const MESSAGES_PER_STEP = 64;
const decoder = new TextDecoder();

const decodeBatch = (m: JsMsg): PulseEvent[] | undefined => {
  try {
    const body = JSON.parse(decoder.decode(m.data)) as { events?: unknown };
    return Array.isArray(body.events) ? (body.events as PulseEvent[]) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Session worker: log first, then projections, and only then ack. A crash anywhere
 * before the ack leads to a redelivery, which every step absorbs because each is
 * idempotent on event ids.
 */
export const startWorker = async (deps: WorkerDeps): Promise<Worker> => {
  const visitors = new VisitorRegistry(deps.log, deps.rules, deps.hydrateLookbackMs);
  const consumer = await deps.js.consumers.get(deps.names.ingestStream, deps.names.ingestConsumer);
  const buffer: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let running = true;
  let processed = 0;
  const messages = await consumer.consume({
    max_messages: 512,
    callback: (m) => {
      buffer.push(m);
      wake?.();
    },
  });

  const step = async (batch: JsMsg[]): Promise<void> => {
    const events: PulseEvent[] = [];
    const good: JsMsg[] = [];
    for (const m of batch) {
      const decoded = decodeBatch(m);
      if (decoded) {
        events.push(...decoded);
        good.push(m);
      } else {
        // A batch that cannot be read never will be; retrying it would only block its partition.
        deps.report(`dropping unreadable ingest message ${m.seq}`);
        m.term();
      }
    }
    const slices = groupByVisitor(events);
    try {
      await visitors.hydrate(slices);
      await deps.log.append(events);
      const eventRows: Record<string, unknown>[] = [];
      const sessionRows: Record<string, unknown>[] = [];
      for (const [key, slice] of slices) {
        const result = visitors.ingest(key, slice);
        for (const p of result.placed) eventRows.push(eventRow(p));
        for (const s of result.touched) sessionRows.push(sessionRow(s));
        for (const t of result.removed) sessionRows.push(tombstoneRow(t));
      }
      await deps.store.insert("events", eventRows);
      await deps.store.insert("sessions", sessionRows);
    } catch (e) {
      visitors.forget(slices.keys());
      const delay = e instanceof StoreError && !e.retryable ? 10_000 : 1_000;
      deps.report(`batch failed, will be redelivered in ${delay} ms`, e);
      for (const m of good) m.nak(delay);
      return;
    }
    for (const m of good) m.ack();
    processed += events.length;
  };

  const loop = (async () => {
    while (running || buffer.length > 0) {
      if (buffer.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      await step(buffer.splice(0, MESSAGES_PER_STEP));
    }
  })();

  return {
    processed: () => processed,
    async stop() {
      running = false;
      await messages.close();
      wake?.();
      await loop;
    },
  };
};
