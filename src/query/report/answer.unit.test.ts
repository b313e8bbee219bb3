import { describe, expect, it } from "vitest";
import { compileReport } from "./compile.js";
import type { BoundQuery, ReportContext } from "./context.js";
import { parseReportSpec } from "./parse.js";

const ctx: ReportContext = { database: "db", timezone: "UTC", keyEvents: [], nowMs: Date.parse("2026-11-27T12:00:00Z"), source: "raw" };
const answer = (raw: Record<string, unknown>, results: (q: BoundQuery) => Record<string, unknown>[]) => compileReport(parseReportSpec({ site: "s", ...raw }), ctx).answer(async (q) => results(q));
const week = [{ startDate: "2026-11-01", endDate: "2026-11-07" }];

describe("answers", () => {
  it("names row values by the headers asked for, turning 64-bit counts into numbers", async () => {
    const a = await answer({ dateRanges: week, dimensions: ["channel", "date"], metrics: ["visitors", "bounceRate"], metricAggregations: ["TOTAL"] }, (q) =>
      q.sql.includes("__rows") ? [{ ri: 0, dr: "date_range_0", d0: "Direct", d1: "20261101", m0: "7", m1: 0.25, __rows: "12" }] : [{ ri: 0, dr: "date_range_0", m0: "9", m1: 0.5 }],
    );
    expect(a).toEqual({
      columns: ["channel", "date", "visitors", "bounceRate"],
      dimensionHeaders: ["channel", "date"],
      metricHeaders: [
        { name: "visitors", type: "TYPE_INTEGER" },
        { name: "bounceRate", type: "TYPE_FLOAT" },
      ],
      rows: [{ channel: "Direct", date: "20261101", visitors: 7, bounceRate: 0.25 }],
      rowCount: 12,
      totals: [{ visitors: 9, bounceRate: 0.5 }],
    });
  });

  it("reads the totals of a report without dimensions from its rows, with zeros for an empty range", async () => {
    const asked: string[] = [];
    const a = await answer({ dateRanges: [...week, { startDate: "2026-10-01", endDate: "2026-10-07", name: "prev" }], metrics: ["sessions", "bounceRate"], metricAggregations: ["TOTAL"] }, (q) => {
      asked.push(q.sql);
      return [{ ri: 0, dr: "date_range_0", m0: "4", m1: 0.5, __rows: "1" }];
    });
    expect(asked).toHaveLength(1);
    expect(a.rows).toEqual([{ dateRange: "date_range_0", sessions: 4, bounceRate: 0.5 }]);
    expect(a.totals).toEqual([
      { dateRange: "date_range_0", sessions: 4, bounceRate: 0.5 },
      { dateRange: "prev", sessions: 0, bounceRate: 0 },
    ]);
  });

  it("counts the rows separately when the page is past the end", async () => {
    const asked: string[] = [];
    const a = await answer({ dateRanges: week, dimensions: ["country"], metrics: ["sessions"], offset: 100 }, (q) => {
      asked.push(q.sql);
      return q.sql.includes("__rows") ? [] : [{ n: "42" }];
    });
    expect(a.rows).toEqual([]);
    expect(a.rowCount).toBe(42);
    expect(asked).toHaveLength(2);
  });

  it("labels rows and totals with their date range when comparing", async () => {
    const a = await answer({ dateRanges: [...week, { startDate: "2026-10-01", endDate: "2026-10-07", name: "prev" }], metrics: ["sessions"], metricAggregations: ["TOTAL"] }, (q) =>
      q.sql.includes("__rows")
        ? [{ ri: 0, dr: "date_range_0", m0: "3", __rows: "2" }, { ri: 1, dr: "prev", m0: "1", __rows: "2" }]
        : [{ ri: 0, dr: "date_range_0", m0: "3" }, { ri: 1, dr: "prev", m0: "1" }],
    );
    expect(a.rows).toEqual([{ dateRange: "date_range_0", sessions: 3 }, { dateRange: "prev", sessions: 1 }]);
    expect(a.totals).toEqual([{ dateRange: "date_range_0", sessions: 3 }, { dateRange: "prev", sessions: 1 }]);
    expect(a.dimensionHeaders).toEqual(["dateRange"]);
  });

  it("answers the first spec with its own names and ISO days", async () => {
    const a = await answer({ from: "2026-11-01", to: "2026-11-02", metrics: ["sessions", "pageviews"], dimensions: ["date"] }, () => [{ ri: 0, dr: "date_range_0", d0: "20261101", m0: "5", m1: "2", __rows: "1" }]);
    expect(a.rows).toEqual([{ date: "2026-11-01", sessions: 5, pageviews: 2 }]);
    expect(a.columns).toEqual(["date", "sessions", "pageviews"]);
  });

  it("turns funnel levels into counts reaching each step and rates", async () => {
    const step = (v: string) => ({ filterExpression: { filter: { fieldName: "eventName", stringFilter: { value: v } } } });
    const a = await answer({ kind: "funnel", dateRanges: week, steps: [step("a"), step("b"), step("c")] }, () => [
      { level: 1, n: "5" },
      { level: 2, n: "3" },
      { level: 3, n: "2" },
    ]);
    expect(a.rows).toEqual([
      { funnelStepName: "1. step 1", activeUsers: 10, funnelStepCompletionRate: 1, funnelStepAbandonments: 5, funnelStepAbandonmentRate: 0.5 },
      { funnelStepName: "2. step 2", activeUsers: 5, funnelStepCompletionRate: 0.5, funnelStepAbandonments: 3, funnelStepAbandonmentRate: 0.6 },
      { funnelStepName: "3. step 3", activeUsers: 2, funnelStepCompletionRate: 0.2, funnelStepAbandonments: 0, funnelStepAbandonmentRate: 0 },
    ]);
  });

  it("fills retention weeks without returns with zero, and leaves out weeks not yet begun", async () => {
    const a = await answer({ kind: "retention", dateRanges: [{ startDate: "2026-11-01", endDate: "2026-11-27" }], weeks: 3 }, () => [
      { cohort: "2026-11-09", week: 0, users: "4" },
      { cohort: "2026-11-09", week: 2, users: "1" },
      { cohort: "2026-11-23", week: 0, users: "2" },
    ]);
    expect(a.rows).toEqual([
      { cohort: "2026-11-09", week: "0", cohortUsers: 4, activeUsers: 4, retentionRate: 1 },
      { cohort: "2026-11-09", week: "1", cohortUsers: 4, activeUsers: 0, retentionRate: 0 },
      { cohort: "2026-11-09", week: "2", cohortUsers: 4, activeUsers: 1, retentionRate: 0.25 },
      { cohort: "2026-11-23", week: "0", cohortUsers: 2, activeUsers: 2, retentionRate: 1 },
    ]);
  });
});
