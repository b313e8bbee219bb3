import { describe, expect, it } from "vitest";
import { createRecent } from "./recent.js";

describe("createRecent", () => {
  it("remembers at most max entries and keeps the ones in use", () => {
    const recent = createRecent<string, number>(4);
    recent.set("a", 1);
    recent.set("b", 2);
    recent.set("c", 3); // a and b age
    expect(recent.get("a")).toBe(1); // used: back in the young generation
    recent.set("d", 4); // the old generation (b) is dropped
    recent.set("e", 5);
    expect(recent.get("b")).toBeUndefined();
    expect(recent.get("a")).toBe(1);
    expect(recent.get("e")).toBe(5);
    expect(recent.get("zzz")).toBeUndefined();
  });

  it("holds no more than max entries under churn", () => {
    const recent = createRecent<number, number>(100);
    for (let i = 0; i < 10_000; i++) recent.set(i, i);
    let held = 0;
    for (let i = 0; i < 10_000; i++) if (recent.get(i) !== undefined) held++;
    expect(held).toBeLessThanOrEqual(100);
    expect(recent.get(9_999)).toBe(9_999);
  });
});
