import { describe, expect, it } from "vitest";
import { dayStart, interval, localDay, offsetMs, onWholeHours, resolveDay } from "./time.js";

const H = 3_600_000;

describe("site time zones", () => {
  it.each([
    ["UTC", "2026-11-20", "2026-11-20T00:00:00Z"],
    ["America/New_York", "2026-11-20", "2026-11-20T05:00:00Z"],
    ["America/New_York", "2026-07-01", "2026-07-01T04:00:00Z"],
    ["Asia/Kolkata", "2026-11-20", "2026-11-19T18:30:00Z"],
    ["Pacific/Auckland", "2026-11-20", "2026-11-19T11:00:00Z"],
    ["Pacific/Auckland", "2026-06-20", "2026-06-19T12:00:00Z"],
  ])("a day in %s starts at the right instant: %s", (tz, day, instant) => {
    expect(new Date(dayStart(day, tz)).toISOString()).toBe(new Date(instant).toISOString());
    expect(localDay(dayStart(day, tz), tz)).toBe(day);
    expect(localDay(dayStart(day, tz) - 1, tz)).not.toBe(day);
  });

  it("handles the days the clocks change", () => {
    // New York: 8 March 2026 has 23 hours, 1 November 25.
    expect(dayStart("2026-03-09", "America/New_York") - dayStart("2026-03-08", "America/New_York")).toBe(23 * H);
    expect(dayStart("2026-11-02", "America/New_York") - dayStart("2026-11-01", "America/New_York")).toBe(25 * H);
    expect(offsetMs("Asia/Kolkata", Date.UTC(2026, 0, 1))).toBe(5.5 * H);
  });

  it("resolves relative days in the site's zone", () => {
    const now = Date.parse("2026-11-27T20:00:00Z");
    expect(resolveDay("today", "UTC", now)).toBe("2026-11-27");
    expect(resolveDay("today", "Pacific/Auckland", now)).toBe("2026-11-28");
    expect(resolveDay("yesterday", "Pacific/Auckland", now)).toBe("2026-11-27");
    expect(resolveDay("30daysAgo", "UTC", now)).toBe("2026-10-28");
    expect(resolveDay("2026-01-05", "UTC", now)).toBe("2026-01-05");
  });

  it("says when hourly buckets cut a range exactly", () => {
    const range = { startDate: "2026-10-01", endDate: "2026-11-30", name: "r" };
    expect(onWholeHours(interval(range, "UTC", 0, "r"), "UTC")).toBe(true);
    expect(onWholeHours(interval(range, "America/New_York", 0, "r"), "America/New_York")).toBe(true);
    expect(onWholeHours(interval(range, "Pacific/Auckland", 0, "r"), "Pacific/Auckland")).toBe(true);
    expect(onWholeHours(interval(range, "Asia/Kolkata", 0, "r"), "Asia/Kolkata")).toBe(false);
    // Lord Howe Island keeps +10:30 in winter and moves its clocks by half an hour for summer.
    expect(onWholeHours(interval({ ...range, startDate: "2026-07-01", endDate: "2026-07-02" }, "Australia/Lord_Howe", 0, "r"), "Australia/Lord_Howe")).toBe(false);
    expect(onWholeHours({ name: "r", fromMs: H / 2, toMs: 2 * H }, "UTC")).toBe(false);
  });

  it("refuses ranges that end before they start or span too long", () => {
    expect(() => interval({ startDate: "2026-11-02", endDate: "2026-11-01", name: "r" }, "UTC", 0, "dateRanges[0]")).toThrow(/"dateRanges\[0\]" ends \(2026-11-01\) before it starts/);
    expect(() => interval({ startDate: "2000-01-01", endDate: "2026-11-01", name: "r" }, "UTC", 0, "dateRanges[0]")).toThrow(/more than 3700 days/);
  });
});
