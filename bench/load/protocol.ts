/** Messages between the bench driver and the load generator process (Node IPC). */

export interface PhaseSpec {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `rate`: open loop at `eventsPerSec`; `max`: each connection sends again as soon as it is answered. */
  readonly mode: "rate" | "max";
  readonly eventsPerSec: number;
  readonly durationMs: number;
  readonly connections: number;
  /** Rate mode: a request that waited this long for a free connection is dropped and counted. */
  readonly maxQueueMs: number;
}

export interface SecondStats {
  /** Start of this second, epoch ms. */
  readonly t: number;
  readonly offered: number;
  readonly acked: number;
  readonly shed: number;
  readonly failed: number;
  /** Ack latency of the requests answered 202 in this second, ms. */
  readonly p50: number;
  readonly p99: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface PhaseStats {
  readonly name: string;
  readonly mode: "rate" | "max";
  readonly targetEventsPerSec: number;
  readonly startedAt: number;
  /** From the first request sent to the last answer received, ms. */
  readonly elapsedMs: number;
  readonly requests: number;
  /** Events offered: sent, or dropped by the generator because no connection was free in time. */
  readonly offeredEvents: number;
  readonly sentEvents: number;
  readonly ackedEvents: number;
  readonly ackedRequests: number;
  readonly ackedPageviews: number;
  /** Events in requests answered 429. */
  readonly shed429: number;
  /** Events in requests answered 503, by error code. */
  readonly shed503: Readonly<Record<string, number>>;
  /** Shed answers (429/503) without a Retry-After header. */
  readonly shedWithoutRetryAfter: number;
  /** Other statuses, timeouts and connection errors, in events; the events' fate is unknown. */
  readonly failedEvents: number;
  readonly failures: Readonly<Record<string, number>>;
  /** Rate mode: events never sent because the generator's queue waited past maxQueueMs. */
  readonly droppedEvents: number;
  /** 202 answers that accepted fewer events than were sent. */
  readonly partialAccepts: number;
  readonly latency: LatencySummary;
  readonly series: readonly SecondStats[];
}

export type DriverMessage =
  | { readonly type: "reset"; readonly tag: string; readonly seed: number }
  | { readonly type: "run"; readonly spec: PhaseSpec }
  | { readonly type: "acked"; readonly file: string }
  | { readonly type: "exit" };

export interface AckedSummary {
  readonly events: number;
  readonly ranges: number;
  readonly pageviewsBySite: Readonly<Record<string, number>>;
}

export type GeneratorMessage =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly stats: PhaseStats }
  | { readonly type: "acked"; readonly summary: AckedSummary }
  | { readonly type: "error"; readonly message: string };
