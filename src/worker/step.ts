import type { JsMsg } from "@nats-io/jetstream";
import type { PulseEvent } from "../core/event.js";
import { stableId } from "../core/hash.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import type { ProjectionSink } from "../projection/sink.js";
import { eventRow, sessionRow, tombstoneRow } from "./projection.js";
import { groupByVisitor, type VisitorRegistry } from "./visitors.js";

export interface StepDeps {
  readonly log: EventLog;
  readonly sink: ProjectionSink;
  readonly visitors: VisitorRegistry;
  readonly report: (message: string, error?: unknown) => void;
}

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
 * One step of a session worker over some ingest batches: log first, then projections,
 * and only then ack. A crash anywhere before the ack leads to a redelivery, which every
 * step absorbs because each is idempotent on event ids. Returns the events handled.
 */
export const processStep = async (batch: readonly JsMsg[], deps: StepDeps): Promise<number> => {
  const events: PulseEvent[] = [];
  const good: JsMsg[] = [];
  for (const m of batch) {
    const decoded = decodeBatch(m);
    if (decoded) {
      events.push(...decoded);
      good.push(m);
    } else {
      // A batch that cannot be read never will be; retrying it would only block its partition.
      deps.report(`dropping unreadable ingest message ${m.subject}#${m.seq}`);
      m.term();
    }
  }
  const slices = groupByVisitor(events);
  try {
    await deps.visitors.hydrate(slices);
    // Only what the visitors' states do not hold yet: hydration read the log, so the rest is in it already.
    await deps.log.append([...slices].flatMap(([key, slice]) => deps.visitors.unseen(key, slice)));
    const eventRows: Record<string, unknown>[] = [];
    const sessionRows: Record<string, unknown>[] = [];
    for (const [key, slice] of slices) {
      const result = deps.visitors.ingest(key, slice);
      for (const p of result.placed) eventRows.push(eventRow(p));
      for (const s of result.touched) sessionRows.push(sessionRow(s));
      for (const t of result.removed) sessionRows.push(tombstoneRow(t));
    }
    deps.visitors.release(slices.keys());
    await deps.sink({ events: eventRows, sessions: sessionRows }, stableId("step", ...good.map((m) => `${m.subject}#${m.seq}`)));
  } catch (e) {
    // The actors may now be ahead of what was stored; the log will bring them back exactly.
    deps.visitors.forget(slices.keys());
    deps.report("step failed; its batches will be redelivered", e);
    for (const m of good) m.nak(1_000);
    return 0;
  }
  for (const m of good) m.ack();
  return events.length;
};
