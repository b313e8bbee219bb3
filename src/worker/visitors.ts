import { ingestSlice, spawnVisitor, type VisitorActor } from "../../actors/session/machine.js";
import type { IngestResult, SessionRules } from "../../actors/session/reducer.js";
import type { PulseEvent } from "../core/event.js";
import { visitorKey } from "../core/partition.js";
import type { EventLog } from "../../infra/eventlog/port.js";

/**
 * The live visitors of one worker: one actor each, created on a visitor's first event
 * and hydrated from the log so that a restart or a redelivery continues, not restarts, sessions.
 */
export class VisitorRegistry {
  private readonly actors = new Map<string, VisitorActor>();

  constructor(
    private readonly log: EventLog,
    private readonly rules: SessionRules,
    /** How far back before a visitor's earliest new event the log is replayed on hydration. */
    private readonly lookbackMs: number,
  ) {}

  get size(): number {
    return this.actors.size;
  }

  /** Makes sure every visitor in `slices` has a hydrated actor. */
  async hydrate(slices: ReadonlyMap<string, readonly PulseEvent[]>, concurrency = 16): Promise<void> {
    const missing = [...slices].filter(([key]) => !this.actors.has(key));
    for (let i = 0; i < missing.length; i += concurrency) {
      await Promise.all(
        missing.slice(i, i + concurrency).map(async ([key, events]) => {
          const first = events[0] as PulseEvent;
          const since = Math.min(...events.map((e) => e.ts)) - this.lookbackMs;
          const history = await this.log.readVisitor(first.site, first.visitor, since);
          const actor = spawnVisitor(this.rules);
          actor.send({ type: "hydrate", events: history });
          this.actors.set(key, actor);
        }),
      );
    }
  }

  ingest(key: string, events: readonly PulseEvent[]): IngestResult {
    const actor = this.actors.get(key);
    if (!actor) throw new Error(`visitor ${key} was not hydrated`);
    return ingestSlice(actor, events);
  }

  /** Forgets visitors whose state may be ahead of what was stored; they are rehydrated from the log. */
  forget(keys: Iterable<string>): void {
    for (const key of keys) {
      this.actors.get(key)?.stop();
      this.actors.delete(key);
    }
  }
}

export const groupByVisitor = (events: readonly PulseEvent[]): Map<string, PulseEvent[]> => {
  const out = new Map<string, PulseEvent[]>();
  for (const e of events) {
    const key = visitorKey(e.site, e.visitor);
    const slice = out.get(key);
    if (slice) slice.push(e);
    else out.set(key, [e]);
  }
  return out;
};
