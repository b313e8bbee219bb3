import { describe, expect, it } from "vitest";
import { fairShare, planLeases } from "./leases.js";

describe("fair share of partitions", () => {
  it.each([
    [8, 1, 8],
    [8, 2, 4],
    [8, 3, 3],
    [8, 0, 8],
    [1, 4, 1],
  ])("%i partitions over %i workers: at most %i each", (p, w, fair) => {
    expect(fairShare(p, w)).toBe(fair);
  });
});

describe("planLeases", () => {
  it("claims free partitions up to the fair share, lowest first", () => {
    expect(planLeases([1], [7, 3, 5], 3)).toEqual({ claim: [3, 5], release: [] });
  });
  it("releases the highest partitions beyond the fair share", () => {
    expect(planLeases([0, 6, 2, 4], [], 2)).toEqual({ claim: [], release: [4, 6] });
  });
  it("does nothing at the fair share", () => {
    expect(planLeases([0, 1], [2], 2)).toEqual({ claim: [], release: [] });
  });
});
