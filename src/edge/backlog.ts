import type { JetStreamManager } from "@nats-io/jetstream";

/** What the ingest stream said about its unprocessed batches, and when. */
export interface BacklogSample {
  readonly atMs: number;
  /** Batches stored and not yet processed. */
  readonly batches: number;
  /** Batches ever processed (removed from the work queue): the last sequence minus those left. */
  readonly processed: number;
  /**
   * How long the oldest unprocessed batch had waited when the newest arrived, both times on the
   * NATS server's clock, so a skew between the edge's host and the server's changes nothing.
   * Under load, when batches keep arriving, that is how long the oldest has waited; 0 when none waits.
   */
  readonly oldestAgeMs: number;
  /** Batches processed per second, over windows of at least a second, each averaged with the one before. */
  readonly drainedPerSecond: number;
}

export const NO_BACKLOG: BacklogSample = { atMs: 0, batches: 0, processed: 0, oldestAgeMs: 0, drainedPerSecond: 0 };

/** Rates are taken over at least this long, so one poll that lands mid-step does not swing them. */
const RATE_WINDOW_MS = 1000;

/** The last sample, and the one the current drain-rate window started from. */
export interface BacklogWatch {
  readonly last: BacklogSample;
  readonly windowStart: BacklogSample;
}

export const STARTING: BacklogWatch = { last: NO_BACKLOG, windowStart: NO_BACKLOG };

/**
 * The next sample from the stream's state. The stream has work-queue retention, so its
 * message count is exactly what the workers have not finished, its first message is the
 * oldest of those, its last the newest, and everything below its last sequence that is gone
 * was processed.
 */
export const nextSample = (w: BacklogWatch, state: { messages: number; last_seq: number; first_ts: string; last_ts: string }, nowMs: number): BacklogWatch => {
  const processed = Math.max(0, state.last_seq - state.messages);
  const span = Date.parse(state.last_ts) - Date.parse(state.first_ts);
  const oldestAgeMs = state.messages > 0 && Number.isFinite(span) ? Math.max(0, span) : 0;
  const start = w.windowStart;
  // The first sample, or a stream recreated under the edge: no rate yet.
  const restarted = start.atMs === 0 || processed < start.processed;
  const elapsed = nowMs - start.atMs;
  const ready = !restarted && elapsed >= RATE_WINDOW_MS;
  const previous = restarted ? 0 : w.last.drainedPerSecond;
  const measured = ready ? ((processed - start.processed) * 1000) / elapsed : previous;
  // Averaged with the previous window: a worker pausing for a second (a GC, a slow insert) would
  // otherwise turn a backlog of a few seconds into a Retry-After of half a minute.
  const drainedPerSecond = ready && previous > 0 ? (previous + measured) / 2 : measured;
  const last = { atMs: nowMs, batches: state.messages, processed, oldestAgeMs, drainedPerSecond };
  return { last, windowStart: ready || restarted ? last : start };
};

export interface BacklogGauge {
  /** The last sample taken. */
  readonly current: () => BacklogSample;
  readonly stop: () => void;
}

/** Polls the ingest stream's state; the edge reads the last sample instead of asking the server on every request. */
export const watchBacklog = (jsm: JetStreamManager, stream: string, everyMs: number, onError: (e: unknown) => void, now: () => number = Date.now): BacklogGauge => {
  let watch = STARTING;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    jsm.streams
      .info(stream)
      .then((info) => {
        watch = nextSample(watch, info.state, now());
      }, onError)
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return { current: () => watch.last, stop: () => clearInterval(timer) };
};
