import { describe, expect, it } from "vitest";
import { newLiveState, noteFlush, runFinished, runStarted, shouldRun } from "./subscription.js";

describe("live subscription state", () => {
  it("runs at once for the first answer, once a watermark is known", () => {
    const s = newLiveState();
    expect(shouldRun(s, undefined, false)).toBe(false);
    expect(shouldRun(s, 100, false)).toBe(true);
  });

  it("re-runs after a flush only once the watermark covers the flush", () => {
    let s = runFinished(runStarted(newLiveState(), 100), "h0", false).state;
    expect(shouldRun(s, 150, false)).toBe(false);
    s = noteFlush(s, 200);
    expect(shouldRun(s, 150, false)).toBe(false);
    expect(shouldRun(s, 200, false)).toBe(true);
  });

  it("keeps one run in flight and runs once more for flushes that came during it", () => {
    let s = noteFlush(runFinished(runStarted(newLiveState(), 100), "h0", false).state, 200);
    s = runStarted(s, 250);
    expect(s.flushes).toEqual([]);
    s = noteFlush(noteFlush(noteFlush(s, 260), 270), 280);
    expect(shouldRun(s, 300, false)).toBe(false);
    const done = runFinished(s, "h1", false);
    expect(done.send).toBe(true);
    s = done.state;
    expect(shouldRun(s, 300, false)).toBe(true);
    // One run covers all three flushes.
    s = runStarted(s, 300);
    expect(s.flushes).toEqual([]);
  });

  it("keeps flushes the run's watermark does not cover for a later run", () => {
    let s = noteFlush(noteFlush(runFinished(runStarted(newLiveState(), 100), "h0", false).state, 200), 400);
    s = runStarted(s, 300);
    expect(s.flushes).toEqual([400]);
    s = runFinished(s, "h1", false).state;
    expect(shouldRun(s, 399, false)).toBe(false);
    expect(shouldRun(s, 400, false)).toBe(true);
  });

  it("does not send an answer identical to the last one sent", () => {
    const first = runFinished(runStarted(newLiveState(), 100), "same", false);
    expect(first.send).toBe(true);
    const again = runFinished(runStarted(noteFlush(first.state, 150), 200), "same", false);
    expect(again.send).toBe(false);
    expect(runFinished(runStarted(noteFlush(again.state, 250), 300), "other", false).send).toBe(true);
  });

  it("starts nothing on a backpressured socket, and owes a dropped answer until it drains", () => {
    let s = noteFlush(runFinished(runStarted(newLiveState(), 100), "h0", false).state, 200);
    expect(shouldRun(s, 300, true)).toBe(false);
    s = runStarted(s, 300);
    const dropped = runFinished(s, "h1", true);
    expect(dropped.send).toBe(false);
    s = dropped.state;
    expect(s.owed).toBe(true);
    expect(shouldRun(s, 300, true)).toBe(false);
    expect(shouldRun(s, 300, false)).toBe(true);
    // The dropped answer was never sent, so the same answer is sent after the drain.
    expect(runFinished(runStarted(s, 300), "h1", false).send).toBe(true);
  });

  it("holds a bounded list of flushes while the watermark stalls", () => {
    let s = runFinished(runStarted(newLiveState(), 100), "h0", false).state;
    for (let t = 1; t <= 1000; t++) s = noteFlush(s, 100 + t);
    expect(s.flushes.length).toBeLessThanOrEqual(16);
    expect(s.flushes.at(-1)).toBe(1100);
    expect(shouldRun(s, 101, false)).toBe(true);
  });
});
