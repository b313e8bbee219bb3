import { describe, expect, it } from "vitest";
import { ADMITTING, MAX_RETRY_AFTER_SECONDS, MEMORY_RETRY_AFTER_SECONDS, MIN_SHED_MS, nextAdmission, retryAfterSeconds, type Admission, type LoadReading } from "./admission.js";

const MB = 1024 * 1024;
const limits = { maxLoopDelayMs: 50, maxBacklogAgeMs: 2000, maxBacklogBatches: 2000, maxMemoryBytes: 1000 * MB };
const calm: LoadReading = { loopDelayMs: 1, backlogBatches: 3, oldestAgeMs: 40, drainedPerSecond: 400, memoryBytes: 300 * MB };
const at = (r: Partial<LoadReading>): LoadReading => ({ ...calm, ...r });

describe("nextAdmission", () => {
  it("keeps taking requests while every reading is within its limit", () => {
    expect(nextAdmission(ADMITTING, at({ loopDelayMs: 50, oldestAgeMs: 2000, backlogBatches: 2000, memoryBytes: 1000 * MB }), limits, 0)).toEqual(ADMITTING);
  });

  it("sheds on the age of the oldest unprocessed batch, with the time to drain the backlog as Retry-After", () => {
    const next = nextAdmission(ADMITTING, at({ oldestAgeMs: 2500, backlogBatches: 1200, drainedPerSecond: 200 }), limits, 10_000);
    expect(next).toEqual({ shedding: true, reason: "backlog_age", sinceMs: 10_000, retryAfterSeconds: 6 });
  });

  it("sheds on the number of unprocessed batches", () => {
    expect(nextAdmission(ADMITTING, at({ backlogBatches: 2001, drainedPerSecond: 1000 }), limits, 0)).toMatchObject({ shedding: true, reason: "backlog", retryAfterSeconds: 3 });
  });

  it("sheds on a saturated event loop with Retry-After 1", () => {
    expect(nextAdmission(ADMITTING, at({ loopDelayMs: 80 }), limits, 0)).toMatchObject({ shedding: true, reason: "loop_delay", retryAfterSeconds: 1 });
  });

  it("sheds when the process's resident memory passes its limit, with a Retry-After of a few seconds", () => {
    expect(nextAdmission(ADMITTING, at({ memoryBytes: 1001 * MB }), limits, 0)).toMatchObject({ shedding: true, reason: "memory", retryAfterSeconds: MEMORY_RETRY_AFTER_SECONDS });
  });

  it("takes requests again once memory is below 90% of its limit, not half of it: memory in use is seldom handed back", () => {
    let s: Admission = nextAdmission(ADMITTING, at({ memoryBytes: 1100 * MB }), limits, 0);
    s = nextAdmission(s, at({ memoryBytes: 950 * MB }), limits, 5000);
    expect(s).toMatchObject({ shedding: true, reason: "memory", sinceMs: 0 });
    expect(nextAdmission(s, at({ memoryBytes: 890 * MB }), limits, 5250)).toEqual(ADMITTING);
  });

  it("names the backlog rather than memory when both are over, and memory rather than the loop", () => {
    expect(nextAdmission(ADMITTING, at({ memoryBytes: 2000 * MB, oldestAgeMs: 3000 }), limits, 0)).toMatchObject({ reason: "backlog_age" });
    expect(nextAdmission(ADMITTING, at({ memoryBytes: 2000 * MB, loopDelayMs: 80 }), limits, 0)).toMatchObject({ reason: "memory" });
  });

  it("names the backlog rather than the loop when both are over, since the backlog says when to come back", () => {
    expect(nextAdmission(ADMITTING, at({ loopDelayMs: 80, oldestAgeMs: 3000 }), limits, 0)).toMatchObject({ reason: "backlog_age" });
  });

  it("ignores a limit set to 0", () => {
    const off = { maxLoopDelayMs: 0, maxBacklogAgeMs: 0, maxBacklogBatches: 2000, maxMemoryBytes: 0 };
    expect(nextAdmission(ADMITTING, at({ loopDelayMs: 10_000, oldestAgeMs: 600_000, memoryBytes: 64_000 * MB }), off, 0)).toEqual(ADMITTING);
  });

  it("keeps shedding until every reading is below half its limit (hysteresis)", () => {
    let s: Admission = nextAdmission(ADMITTING, at({ oldestAgeMs: 2100 }), limits, 0);
    // Back under the limit but not under half of it: still shedding, well after the minimum hold.
    s = nextAdmission(s, at({ oldestAgeMs: 1500 }), limits, 5000);
    expect(s).toMatchObject({ shedding: true, reason: "backlog_age", sinceMs: 0 });
    s = nextAdmission(s, at({ oldestAgeMs: 900, loopDelayMs: 30 }), limits, 5250);
    expect(s).toMatchObject({ shedding: true, reason: "loop_delay" });
    s = nextAdmission(s, at({ oldestAgeMs: 900, loopDelayMs: 20 }), limits, 5500);
    expect(s).toEqual(ADMITTING);
  });

  it("sheds for at least MIN_SHED_MS even when the load drops at once", () => {
    const s = nextAdmission(ADMITTING, at({ loopDelayMs: 200 }), limits, 1000);
    expect(nextAdmission(s, calm, limits, 1000 + MIN_SHED_MS - 1)).toMatchObject({ shedding: true, sinceMs: 1000 });
    expect(nextAdmission(s, calm, limits, 1000 + MIN_SHED_MS)).toEqual(ADMITTING);
  });

  it("updates Retry-After as the backlog drains while shedding", () => {
    const s = nextAdmission(ADMITTING, at({ oldestAgeMs: 4000, backlogBatches: 4000, drainedPerSecond: 500 }), limits, 0);
    expect(s).toMatchObject({ retryAfterSeconds: 8 });
    expect(nextAdmission(s, at({ oldestAgeMs: 1800, backlogBatches: 900, drainedPerSecond: 500 }), limits, 2000)).toMatchObject({ shedding: true, retryAfterSeconds: 2 });
  });
});

describe("retryAfterSeconds", () => {
  it("falls back to the backlog's age when the workers are not seen draining", () => {
    expect(retryAfterSeconds("backlog_age", at({ oldestAgeMs: 7200, drainedPerSecond: 0 }))).toBe(8);
  });

  it("stays between 1 second and the maximum", () => {
    expect(retryAfterSeconds("backlog", at({ backlogBatches: 1, drainedPerSecond: 10_000 }))).toBe(1);
    expect(retryAfterSeconds("backlog", at({ backlogBatches: 1_000_000, drainedPerSecond: 10 }))).toBe(MAX_RETRY_AFTER_SECONDS);
  });
});
