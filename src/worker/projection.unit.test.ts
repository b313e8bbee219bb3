import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chTime } from "./projection.js";

/** The form ClickHouse reads for DateTime64(3): the ISO string with a space and no zone. */
const reference = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

describe("chTime", () => {
  it("gives the DateTime64(3) text of any instant from 1970 to 2200, whatever came before it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), { minLength: 1, maxLength: 20 }), (instants) => {
        for (const ms of instants) expect(chTime(ms)).toBe(reference(ms));
      }),
    );
  });

  it("handles the last and first millisecond of a day and fractional milliseconds", () => {
    const midnight = Date.UTC(2026, 10, 28);
    for (const ms of [midnight - 1, midnight, midnight + 1, midnight + 86_399_999, 0, 1_764_288_000_123.7]) expect(chTime(ms)).toBe(reference(ms));
  });
});
