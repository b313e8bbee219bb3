import type { JetStreamManager } from "@nats-io/jetstream";

export interface BacklogGauge {
  /** Batches stored in the ingest stream and not yet processed, as last seen. */
  readonly current: () => number;
  readonly stop: () => void;
}

/**
 * Watches the ingest stream's backlog. The stream has work-queue retention, so its message
 * count is exactly what the workers have not finished. The edge reads the last value on
 * every request instead of asking the server each time.
 */
export const watchBacklog = (jsm: JetStreamManager, stream: string, everyMs: number, onError: (e: unknown) => void): BacklogGauge => {
  let last = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    jsm.streams
      .info(stream)
      .then((info) => {
        last = info.state.messages;
      }, onError)
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return { current: () => last, stop: () => clearInterval(timer) };
};
