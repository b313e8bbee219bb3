/**
 * Receive-order numbers: epoch ms * 1000 plus a counter, strictly increasing
 * within a process even when the wall clock stalls or steps back.
 */
export const createSequence = (now: () => number): (() => number) => {
  let last = 0;
  return () => {
    last = Math.max(last + 1, now() * 1000);
    return last;
  };
};
