import { describe, expect, it } from "vitest";
import { nextSample, STARTING } from "./backlog.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const ZERO_TIME = "0001-01-01T00:00:00Z";
/** A stream state as JetStream reports it; times are the server's. */
const state = (messages: number, last_seq: number, firstMs = 0, lastMs = firstMs) => ({ messages, last_seq, first_ts: iso(firstMs), last_ts: iso(lastMs) });

describe("nextSample", () => {
  it("reads the backlog, the oldest batch's age and what was processed from the stream's state", () => {
    const w = nextSample(STARTING, state(30, 130, 9_000, 10_000), 10_050);
    expect(w.last).toEqual({ atMs: 10_050, batches: 30, processed: 100, oldestAgeMs: 1000, drainedPerSecond: 0 });
  });

  it("takes the age on the server's clock alone, whatever the edge's clock says", () => {
    expect(nextSample(STARTING, state(30, 130, 9_000, 10_000), 500_000).last.oldestAgeMs).toBe(1000);
    expect(nextSample(STARTING, state(30, 130, 9_000, 10_000), 0).last.oldestAgeMs).toBe(1000);
  });

  it("reports no age for an empty stream, whose first_ts is the zero time", () => {
    expect(nextSample(STARTING, { messages: 0, last_seq: 50, first_ts: ZERO_TIME, last_ts: iso(9_000) }, 10_000).last.oldestAgeMs).toBe(0);
  });

  it("reads times with nanoseconds", () => {
    const s = { messages: 2, last_seq: 2, first_ts: "1970-01-01T00:00:01.500000123Z", last_ts: "1970-01-01T00:00:04.000000456Z" };
    expect(nextSample(STARTING, s, 4000).last.oldestAgeMs).toBe(2500);
  });

  it("measures the drain rate over at least a second, averaged with the window before, and keeps it between", () => {
    let w = nextSample(STARTING, state(10, 110), 1000);
    w = nextSample(w, state(10, 160), 1250);
    expect(w.last.drainedPerSecond).toBe(0);
    w = nextSample(w, state(10, 310), 2000);
    // 200 batches processed (100 → 300) in one second.
    expect(w.last.drainedPerSecond).toBe(200);
    w = nextSample(w, state(10, 320), 2250);
    expect(w.last.drainedPerSecond).toBe(200);
    // 100 batches (300 → 400) in two seconds: 50/s, averaged with the 200/s before.
    w = nextSample(w, state(10, 410), 4000);
    expect(w.last.drainedPerSecond).toBe(125);
    // A window with nothing processed halves the rate instead of zeroing it.
    w = nextSample(w, state(10, 410), 5000);
    expect(w.last.drainedPerSecond).toBe(62.5);
  });

  it("starts over when the stream was recreated", () => {
    let w = nextSample(STARTING, { messages: 0, last_seq: 1000, first_ts: ZERO_TIME, last_ts: iso(0) }, 1000);
    w = nextSample(w, state(5, 5, 1500), 2500);
    expect(w.last).toMatchObject({ processed: 0, drainedPerSecond: 0 });
    w = nextSample(w, state(5, 105, 3000), 3500);
    expect(w.last.drainedPerSecond).toBe(100);
  });
});
