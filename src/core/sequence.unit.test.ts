import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSequence } from "./sequence.js";

const T = 1_773_140_400_000; // 2026-03-10T11:00:00Z

/** A clock that returns the given readings one after the other. */
const clock = (readings: readonly number[]): (() => number) => {
  let i = 0;
  return () => {
    const v = readings[Math.min(i, readings.length - 1)];
    i++;
    return v as number;
  };
};

const take = (next: () => number, n: number): number[] => Array.from({ length: n }, () => next());

const strictlyIncreasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number));

describe("createSequence", () => {
  it("is the clock in microsecond units when the clock moves forward", () => {
    const next = createSequence(clock([T, T + 1, T + 5]));
    expect(take(next, 3)).toEqual([T * 1000, (T + 1) * 1000, (T + 5) * 1000]);
  });

  it("counts up within a stalled millisecond", () => {
    const next = createSequence(() => T);
    expect(take(next, 4)).toEqual([T * 1000, T * 1000 + 1, T * 1000 + 2, T * 1000 + 3]);
  });

  it("keeps increasing when the clock steps back", () => {
    const next = createSequence(clock([T, T + 10, T - 60_000, T - 60_000, T + 5, T + 11]));
    const seqs = take(next, 6);
    expect(seqs).toEqual([T * 1000, (T + 10) * 1000, (T + 10) * 1000 + 1, (T + 10) * 1000 + 2, (T + 10) * 1000 + 3, (T + 11) * 1000]);
    expect(strictlyIncreasing(seqs)).toBe(true);
  });

  it("stays an exact integer at today's epoch", () => {
    const next = createSequence(() => T);
    const seqs = take(next, 1000);
    expect(seqs.every(Number.isSafeInteger)).toBe(true);
    expect(new Set(seqs).size).toBe(1000);
  });

  it("keeps separate counters for separate sequences", () => {
    const a = createSequence(() => T);
    const b = createSequence(() => T);
    a();
    a();
    expect(b()).toBe(T * 1000);
    expect(a()).toBe(T * 1000 + 2);
  });

  it("strictly increases for any clock readings (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: T - 86_400_000, max: T + 86_400_000 }), { minLength: 1, maxLength: 200 }), (readings) => {
        const seqs = take(createSequence(clock(readings)), readings.length);
        expect(strictlyIncreasing(seqs)).toBe(true);
        // Never behind the clock.
        seqs.forEach((s, i) => expect(s).toBeGreaterThanOrEqual((readings[i] as number) * 1000));
      }),
    );
  });
});
