import type { JetStreamManager } from "@nats-io/jetstream";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Unavailable } from "../core/errors.js";
import { ADMITTING, nextAdmission, type Admission, type AdmissionLimits } from "./admission.js";
import { watchBacklog } from "./backlog.js";

export interface AdmissionControl {
  /** The refusal to answer a new ingest request with, or undefined while the edge takes them. */
  readonly refusal: () => Unavailable | undefined;
  readonly state: () => Admission;
  readonly stop: () => void;
}

/** Event-loop delay sampling step; the histogram counts it in every sample, so it is taken off. */
const RESOLUTION_MS = 10;
/**
 * The event-loop delay is the median over this long: one GC pause or one slow insert moves a
 * median over a second little, a loop that stays late moves it at once.
 */
const LOOP_WINDOW_MS = 1000;

/**
 * Measures the edge's own saturation (the median event-loop delay over the last second) and
 * the ingest backlog (polled from the stream), and decides every `everyMs` whether new ingest
 * requests are taken. A request is only checked on arrival: one already let in is never
 * refused afterwards, so nothing is acknowledged and then dropped.
 */
export const watchAdmission = (opts: {
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly everyMs: number;
  readonly limits: AdmissionLimits;
  readonly onError: (e: unknown) => void;
  readonly onChange?: (a: Admission) => void;
}): AdmissionControl => {
  const backlog = watchBacklog(opts.jsm, opts.stream, opts.everyMs, opts.onError);
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  let state: Admission = ADMITTING;
  // Built once per change of state, not per refused request: a stack per refusal is work an overloaded edge cannot spare.
  let refusal: Unavailable | undefined;
  let loopDelayMs = 0;
  let loopWindowStart = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - loopWindowStart >= LOOP_WINDOW_MS) {
      loopDelayMs = loop.count > 0 ? Math.max(0, loop.percentile(50) / 1e6 - RESOLUTION_MS) : 0;
      loop.reset();
      loopWindowStart = Date.now();
    }
    const b = backlog.current();
    const reading = { loopDelayMs, backlogBatches: b.batches, oldestAgeMs: b.oldestAgeMs, drainedPerSecond: b.drainedPerSecond, memoryBytes: process.memoryUsage.rss() };
    const next = nextAdmission(state, reading, opts.limits, Date.now());
    const changed = next.shedding !== state.shedding || (next.shedding && state.shedding && (next.reason !== state.reason || next.retryAfterSeconds !== state.retryAfterSeconds));
    state = next;
    if (!changed) return;
    refusal = next.shedding ? new Unavailable(next.reason, refusalMessage(next.reason, b.batches, b.oldestAgeMs, reading.memoryBytes), next.retryAfterSeconds) : undefined;
    opts.onChange?.(next);
  }, opts.everyMs);
  timer.unref();
  return {
    refusal: () => refusal,
    state: () => state,
    stop: () => {
      clearInterval(timer);
      loop.disable();
      backlog.stop();
    },
  };
};

const refusalMessage = (reason: string, batches: number, ageMs: number, memoryBytes: number): string =>
  reason === "loop_delay"
    ? "this server is saturated; retry shortly"
    : reason === "memory"
      ? `this server is near its memory limit (${Math.round(memoryBytes / 1024 / 1024)} MiB in use); retry after the Retry-After delay`
      : `the workers are behind (${batches} batches, the oldest waiting ${(ageMs / 1000).toFixed(1)} s); retry after the Retry-After delay`;
