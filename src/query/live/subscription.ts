/**
 * When a live subscription re-runs its report, as plain values: a store flush that touched the
 * subscription's site marks it stale, it re-runs once the watermark covers that flush (so the new
 * answer is complete up to a time after every event the flush brought), at most one run is in
 * flight, and flushes that arrive during a run lead to one more run afterwards.
 */
export interface LiveState {
  /** Times of flushes touching the site that no run has covered yet, oldest first. */
  readonly flushes: readonly number[];
  readonly running: boolean;
  /** The first answer is still to be sent. */
  readonly initial: boolean;
  /** An answer was dropped because the socket was backpressured: run again once it drains. */
  readonly owed: boolean;
  /** Hash of the last answer sent, so an identical answer is not sent again. */
  readonly sent: string | undefined;
}

export const newLiveState = (): LiveState => ({ flushes: [], running: false, initial: true, owed: false, sent: undefined });

// Flushes come a few times a second; if the watermark stalls, later ones merge into the newest.
const MAX_FLUSHES = 16;

export const noteFlush = (s: LiveState, at: number): LiveState => {
  if (s.flushes.length < MAX_FLUSHES) return { ...s, flushes: [...s.flushes, at] };
  return { ...s, flushes: [...s.flushes.slice(0, -1), Math.max(at, s.flushes.at(-1) ?? at)] };
};

/** Whether to start a run now. A backpressured socket gets no new work until it drains. */
export const shouldRun = (s: LiveState, watermark: number | undefined, backpressured: boolean): boolean => {
  if (s.running || backpressured || watermark === undefined) return false;
  const oldest = s.flushes[0];
  return s.initial || s.owed || (oldest !== undefined && watermark >= oldest);
};

/** A run starts with the watermark it will carry; the flushes that watermark covers are done. */
export const runStarted = (s: LiveState, watermark: number): LiveState => ({
  ...s,
  running: true,
  initial: false,
  owed: false,
  flushes: s.flushes.filter((at) => at > watermark),
});

/** A run ended with an answer of hash `hash`: whether to send it. */
export const runFinished = (s: LiveState, hash: string, backpressured: boolean): { state: LiveState; send: boolean } => {
  if (hash === s.sent) return { state: { ...s, running: false }, send: false };
  if (backpressured) return { state: { ...s, running: false, owed: true }, send: false };
  return { state: { ...s, running: false, sent: hash }, send: true };
};
