import { describe, expect, it } from "vitest";
import { nextSample, STARTING } from "./backlog.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const EMPTY_FIRST_TS = "0001-01-01T00:00:00Z";

describe("nextSample", () => {
  it("reads the backlog, the oldest batch's age and what was processed from the stream's state", () => {
    const w = nextSample(STARTING, { messages: 30, last_seq: 130, first_ts: iso(9_000) }, 10_000);
    expect(w.last).toEqual({ atMs: 10_000, batches: 30, processed: 100, oldestAgeMs: 1000, drainedPerSecond: 0 });
  });

  it("reports no age for an empty stream, whose first_ts is the zero time", () => {
    expect(nextSample(STARTING, { messages: 0, last_seq: 50, first_ts: EMPTY_FIRST_TS }, 10_000).last.oldestAgeMs).toBe(0);
  });

  it("reads a first_ts with nanoseconds", () => {
    expect(nextSample(STARTING, { messages: 1, last_seq: 1, first_ts: "1970-01-01T00:00:01.500000123Z" }, 4000).last.oldestAgeMs).toBe(2500);
  });

  it("measures the drain rate over at least a second, averaged with the window before, and keeps it between", () => {
    let w = nextSample(STARTING, { messages: 10, last_seq: 110, first_ts: iso(0) }, 1000);
    w = nextSample(w, { messages: 10, last_seq: 160, first_ts: iso(0) }, 1250);
    expect(w.last.drainedPerSecond).toBe(0);
    w = nextSample(w, { messages: 10, last_seq: 310, first_ts: iso(0) }, 2000);
    // 200 batches processed (100 → 300) in one second.
    expect(w.last.drainedPerSecond).toBe(200);
    w = nextSample(w, { messages: 10, last_seq: 320, first_ts: iso(0) }, 2250);
    expect(w.last.drainedPerSecond).toBe(200);
    // 100 batches (300 → 400) in two seconds: 50/s, averaged with the 200/s before.
    w = nextSample(w, { messages: 10, last_seq: 410, first_ts: iso(0) }, 4000);
    expect(w.last.drainedPerSecond).toBe(125);
    // A window with nothing processed halves the rate instead of zeroing it.
    w = nextSample(w, { messages: 10, last_seq: 410, first_ts: iso(0) }, 5000);
    expect(w.last.drainedPerSecond).toBe(62.5);
  });

  it("starts over when the stream was recreated", () => {
    let w = nextSample(STARTING, { messages: 0, last_seq: 1000, first_ts: EMPTY_FIRST_TS }, 1000);
    w = nextSample(w, { messages: 5, last_seq: 5, first_ts: iso(1500) }, 2500);
    expect(w.last).toMatchObject({ processed: 0, drainedPerSecond: 0 });
    w = nextSample(w, { messages: 5, last_seq: 105, first_ts: iso(3000) }, 3500);
    expect(w.last.drainedPerSecond).toBe(100);
  });
});
