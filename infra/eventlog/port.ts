import type { PulseEvent } from "../../src/core/event.js";

/**
 * The durable, per-visitor ordered record of every accepted event.
 * Both backends pass the same contract suite (eventlog.contract.ts).
 */
export interface EventLog {
  readonly backend: "elasticsearch" | "jetstream";
  init(): Promise<void>;
  /** Stores events in the given order. Idempotent on (site, id): a second append of an event changes nothing. */
  append(events: readonly PulseEvent[]): Promise<void>;
  /** One visitor's events with time >= sinceTs, in log order (time, then receive sequence). */
  readVisitor(site: string, visitor: string, sinceTs: number): Promise<PulseEvent[]>;
  /** How many events the log holds for a site, all appends so far included. */
  count(site: string): Promise<number>;
  close(): Promise<void>;
}
