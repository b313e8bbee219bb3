/** Flat custom properties of an event. */
import type { EventContext } from "./context.js";

export type EventProps = Readonly<Record<string, string | number | boolean>>;

/**
 * One event as the edge accepted it. This exact shape travels in JetStream
 * batches and is kept in the event log; projections are derived from it.
 */
export interface PulseEvent {
  /** Stable id: the client's when sent, else derived at the edge. Unique per site. */
  readonly id: string;
  readonly site: string;
  readonly visitor: string;
  readonly name: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Edge receive order; breaks ties between events with the same time. */
  readonly seq: number;
  readonly receivedAt: number;
  readonly url: string;
  readonly referrer: string;
  readonly props: EventProps;
  /** The site's own user id, when the visitor is signed in; links the visitor's sessions to a user. */
  readonly userId?: string;
  /** Browser, OS, device, location and bot flag, as enriched at the edge. */
  readonly context?: EventContext;
}

/** Order of a visitor's log: event time, then receive sequence. */
export const compareEvents = (a: PulseEvent, b: PulseEvent): number => a.ts - b.ts || a.seq - b.seq;

export const PAGEVIEW = "pageview";
