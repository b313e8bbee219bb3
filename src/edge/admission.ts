/**
 * Admission control at the edge, as a pure function of what the edge last measured: whether
 * to take new ingest requests or shed them with 503 and a Retry-After. Effects (polling the
 * ingest stream, sampling the event loop) live in load.ts; this file only decides.
 */

/** One reading of the edge's own load and of the processing backlog behind it. */
export interface LoadReading {
  /** Median event-loop delay over the last sampling window, beyond the sampling resolution. */
  readonly loopDelayMs: number;
  /** Ingest batches stored and not yet processed. */
  readonly backlogBatches: number;
  /** How long the oldest unprocessed ingest batch has waited; 0 when none waits. */
  readonly oldestAgeMs: number;
  /** Batches the workers finished per second, recently; 0 when unknown or stalled. */
  readonly drainedPerSecond: number;
  /** Resident memory of this process (every thread of it), in bytes. */
  readonly memoryBytes: number;
}

export interface AdmissionLimits {
  /** Median event-loop delay beyond which the edge itself is saturated; 0 turns the check off. */
  readonly maxLoopDelayMs: number;
  /** Age of the oldest unprocessed batch beyond which the workers are too far behind; 0 turns the check off. */
  readonly maxBacklogAgeMs: number;
  /** Unprocessed batches beyond which the workers are too far behind. */
  readonly maxBacklogBatches: number;
  /** Resident memory beyond which the process takes no more work; 0 turns the check off. */
  readonly maxMemoryBytes: number;
}

export type ShedReason = "loop_delay" | "backlog_age" | "backlog" | "memory";

export type Admission =
  | { readonly shedding: false }
  | { readonly shedding: true; readonly reason: ShedReason; readonly sinceMs: number; readonly retryAfterSeconds: number };

export const ADMITTING: Admission = { shedding: false };

/**
 * Shedding resumes only once every reading is below this fraction of its limit, and not
 * before MIN_SHED_MS: refusals are cheap, so the load drops at once when shedding starts,
 * and without the gap and the hold the edge would flip every reading.
 */
export const RESUME_FRACTION = 0.5;
/**
 * Memory resumes closer to its limit: what shedding lets go of (requests waiting for their
 * PubAck, batches in the workers' hands) is a small part of it, and memory the process has
 * touched is seldom handed back at once, so half the limit might never come.
 */
export const MEMORY_RESUME_FRACTION = 0.9;
export const MEMORY_RETRY_AFTER_SECONDS = 5;
export const MIN_SHED_MS = 1000;
export const MAX_RETRY_AFTER_SECONDS = 30;

const over = (value: number, limit: number, fraction: number): boolean => limit > 0 && value > limit * fraction;

/**
 * Which limit the reading exceeds (at `fraction` of each, or at the memory's own fraction when
 * resuming), the backlog first since it says more about when to come back.
 */
const exceeded = (r: LoadReading, l: AdmissionLimits, resuming: boolean): ShedReason | undefined => {
  const fraction = resuming ? RESUME_FRACTION : 1;
  if (over(r.oldestAgeMs, l.maxBacklogAgeMs, fraction)) return "backlog_age";
  if (over(r.backlogBatches, l.maxBacklogBatches, fraction)) return "backlog";
  if (over(r.memoryBytes, l.maxMemoryBytes, resuming ? MEMORY_RESUME_FRACTION : 1)) return "memory";
  if (over(r.loopDelayMs, l.maxLoopDelayMs, fraction)) return "loop_delay";
  return undefined;
};

/**
 * When a refused client should come back: for a backlog, about the time the workers need to
 * drain it at the rate they were last seen draining (its age when that rate is unknown); for
 * a saturated event loop, a second, since that clears as soon as the load drops; for memory,
 * a few seconds, the time for the work under way to finish and be collected.
 */
export const retryAfterSeconds = (reason: ShedReason, r: LoadReading): number => {
  if (reason === "loop_delay") return 1;
  if (reason === "memory") return MEMORY_RETRY_AFTER_SECONDS;
  const drainMs = r.drainedPerSecond > 0 ? (r.backlogBatches / r.drainedPerSecond) * 1000 : r.oldestAgeMs;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(drainMs / 1000)));
};

/** The next admission state from the last one and a new reading taken at `nowMs`. */
export const nextAdmission = (prev: Admission, r: LoadReading, limits: AdmissionLimits, nowMs: number): Admission => {
  const high = exceeded(r, limits, false);
  if (!prev.shedding) return high ? { shedding: true, reason: high, sinceMs: nowMs, retryAfterSeconds: retryAfterSeconds(high, r) } : prev;
  const stillHigh = exceeded(r, limits, true);
  if (!stillHigh && nowMs - prev.sinceMs >= MIN_SHED_MS) return ADMITTING;
  const reason = high ?? stillHigh ?? prev.reason;
  return { shedding: true, reason, sinceMs: prev.sinceMs, retryAfterSeconds: retryAfterSeconds(reason, r) };
};
