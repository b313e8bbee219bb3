import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { compileReport } from "./compile.js";
import type { CompiledTable } from "./compile-table.js";
import type { BoundQuery, ReportContext } from "./context.js";
import { parseReportSpec } from "./parse.js";

const ctx: ReportContext = { database: "pulse_db", timezone: "UTC", keyEvents: ["signup"], nowMs: Date.parse("2026-11-27T12:00:00Z") };
const week = [{ startDate: "2026-11-01", endDate: "2026-11-07" }];

const compile = (raw: Record<string, unknown>, over: Partial<ReportContext> = {}) => compileReport(parseReportSpec({ site: "s1", ...raw }), { ...ctx, ...over }).compiled;
const table = (raw: Record<string, unknown>, over: Partial<ReportContext> = {}): CompiledTable => {
  const c = compile({ dateRanges: week, ...raw }, over);
  if (c.kind !== "table") throw new Error("expected a table");
  return c;
};

const refused = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as InvalidInput).code).toBe("invalid_query");
    return (e as InvalidInput).message;
  }
  throw new Error("expected a refusal");
};

const queries = (c: ReturnType<typeof compile>): BoundQuery[] => (c.kind === "table" ? [c.rows, c.count, ...(c.totals ? [c.totals] : [])] : [c.query]);

// Quotes in the SQL text come only from the compiler's own literals; a value from a client would unbalance them or show up verbatim.
const assertNoClientText = (q: BoundQuery, ...values: string[]): void => {
  for (const v of values) if (v !== "{site:String}") expect(q.sql).not.toContain(v);
  expect((q.sql.match(/'/g) ?? []).length % 2).toBe(0);
};

const EVIL = [`x' OR 1=1 --`, `a\\'; DROP TABLE pulse_db.events; --`, "{site:String}", "`x`", '"quoted"', "ünï©ødé 𝒳 \u0000", "') UNION ALL SELECT * FROM system.tables --"];

describe("compiling runReport", () => {
  it("binds every value a client sent and keeps it out of the SQL text", () => {
    const spec = (evil: string) => ({
        site: evil,
        dateRanges: [{ ...week[0], name: evil }, { startDate: "2026-10-01", endDate: "2026-10-07" }],
        dimensions: ["pagePath", `param:${evil}`],
        metrics: ["screenPageViews", "activeUsers"],
        metricAggregations: ["TOTAL"],
        dimensionFilter: {
          orGroup: {
            expressions: [
              { filter: { fieldName: "pagePath", stringFilter: { matchType: "CONTAINS", value: evil } } },
              { filter: { fieldName: "pagePath", stringFilter: { matchType: "FULL_REGEXP", value: "a|b" } } },
              { filter: { fieldName: `customEvent:${evil}`, inListFilter: { values: [evil, "x"] } } },
              { filter: { fieldName: "country", stringFilter: { matchType: "EXACT", value: evil, caseSensitive: true } } },
            ],
          },
        },
        metricFilter: { filter: { fieldName: "screenPageViews", numericFilter: { operation: "GREATER_THAN", value: 1e6 } } },
      });
    const plain = table(spec("plain"));
    for (const evil of EVIL) {
      const c = table(spec(evil));
      // The SQL text does not depend on the values at all, only on the shape of the request.
      expect(queries(c).map((q) => q.sql)).toEqual(queries(plain).map((q) => q.sql));
      for (const q of queries(c)) {
        assertNoClientText(q, evil, "a|b", "1000000");
        expect(Object.values(q.params)).toContain(evil);
      }
      expect(c.rows.params["site"]).toBe(evil);
      expect(Object.values(c.rows.params)).toContain("(?i)^(?:a|b)$");
      expect(Object.values(c.rows.params)).toContain(1e6);
    }
  });

  it("refuses field names that are not in the catalogue, whatever they hold", () => {
    for (const evil of EVIL) {
      expect(refused(() => table({ dimensions: [evil], metrics: ["sessions"] }))).toMatch(/^unknown dimension/);
      expect(refused(() => table({ metrics: [evil] }))).toMatch(/^unknown metric/);
      expect(refused(() => table({ metrics: ["sessions"], dimensionFilter: { filter: { fieldName: evil, emptyFilter: {} } } }))).toMatch(/^unknown dimension/);
      expect(refused(() => table({ metrics: ["sessions"], metricFilter: { filter: { fieldName: evil, numericFilter: { operation: "EQUAL", value: 1 } } } }))).toMatch(/not among the requested metrics/);
      expect(refused(() => table({ metrics: ["sessions"], orderBys: [{ dimension: { dimensionName: evil } }] }))).toMatch(/not among the requested dimensions/);
      expect(refused(() => table({ metrics: ["sessions"], orderBys: [{ metric: { metricName: evil } }] }))).toMatch(/not among the requested metrics/);
    }
  });

  it("names the fields in its errors, and lists what is known", () => {
    const m = refused(() => table({ metrics: ["revenue"] }));
    expect(m).toContain('unknown metric "revenue"');
    expect(m).toContain("sessions");
    expect(refused(() => table({ dimensions: ["planet"], metrics: ["sessions"] }))).toContain("param:<name>");
  });

  it("refuses to split session metrics by event dimensions and the other way round", () => {
    expect(refused(() => table({ dimensions: ["pagePath"], metrics: ["sessions"] }))).toMatch(/dimension "pagePath" cannot be combined with metric "sessions"/);
    expect(refused(() => table({ dimensions: ["landingPage"], metrics: ["eventCount"] }))).toMatch(/dimension "landingPage" cannot be combined with metric "eventCount"/);
    expect(refused(() => table({ metrics: ["bounceRate"], dimensionFilter: { filter: { fieldName: "eventName", stringFilter: { value: "x" } } } }))).toMatch(/"eventName"/);
  });

  it("counts visitors on events, or on sessions when split by a session dimension", () => {
    expect(table({ metrics: ["activeUsers"] }, { source: "raw" }).rows.sql).toContain("pulse_db.events FINAL");
    expect(table({ metrics: ["activeUsers"] }, { source: "raw" }).rows.sql).not.toContain("pulse_db.sessions");
    const byLanding = table({ dimensions: ["landingPage"], metrics: ["activeUsers"] }, { source: "raw" }).rows.sql;
    expect(byLanding).toContain("pulse_db.sessions FINAL");
    expect(byLanding).not.toContain("pulse_db.events");
    const both = table({ dimensions: ["date"], metrics: ["activeUsers", "sessions", "screenPageViews"] }, { source: "raw" }).rows.sql;
    expect(both).toContain("FULL OUTER JOIN");
    expect(both).toContain("e_users AS m0");
  });

  it("reads the rollups when they can answer and the raw tables otherwise", () => {
    // One dimension besides time: the rollups by one dimension; two: the rollups by combination.
    expect(table({ dimensions: ["date", "country"], metrics: ["activeUsers", "sessions", "bounceRate"] }).path).toBe("dimension-rollup");
    expect(table({ dimensions: ["country"], metrics: ["sessions"], dimensionFilter: { filter: { fieldName: "country", emptyFilter: {} } } }).path).toBe("dimension-rollup");
    expect(table({ dimensions: ["country", "deviceCategory"], metrics: ["activeUsers", "sessions"] }).path).toBe("rollup");
    expect(table({ dimensions: ["country"], metrics: ["sessions"], dimensionFilter: { filter: { fieldName: "browser", emptyFilter: {} } } }).path).toBe("rollup");
    expect(table({ dimensions: ["pagePath"], metrics: ["keyEvents"] }).path).toBe("rollup");
    expect(table({ dimensions: ["date"], metrics: ["newUsers"] }).path).toBe("raw");
    expect(table({ dimensions: ["city"], metrics: ["eventCount"] }).path).toBe("raw");
    expect(table({ dimensions: ["param:plan"], metrics: ["eventCount"] }).path).toBe("raw");
    expect(table({ dimensions: ["exitPage"], metrics: ["sessions"] }).path).toBe("raw");
    expect(table({ metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "pageReferrer", emptyFilter: {} } } }).path).toBe("raw");
    expect(table({ metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "eventName", emptyFilter: {} } } }).path).toBe("dimension-rollup");
    // Time alone: the per-site rollups, unless a metric needs event names.
    expect(table({ dimensions: ["date", "hour"], metrics: ["activeUsers", "sessions", "bounceRate", "screenPageViews", "averageSessionDuration", "sessionKeyEventRate"] }).path).toBe("site-rollup");
    expect(table({ dimensions: ["date"], metrics: ["keyEvents"] }).path).toBe("rollup");
    // Whole days in a whole-hour zone are whole hours; Asia/Kolkata is +05:30.
    expect(table({ dimensions: ["date"], metrics: ["sessions"] }, { timezone: "America/New_York" }).path).toBe("site-rollup");
    expect(table({ dimensions: ["date"], metrics: ["sessions"] }, { timezone: "Asia/Kolkata" }).path).toBe("raw");
    expect(table({ dimensions: ["date"], metrics: ["sessions"] }, { timezone: "Asia/Kolkata", source: "auto" }).rows.sql).toContain("pulse_db.sessions FINAL");
  });

  it("can be forced to either path, and says so when the rollups cannot answer", () => {
    const raw = table({ dimensions: ["date"], metrics: ["sessions"] }, { source: "raw" });
    expect(raw.path).toBe("raw");
    expect(raw.rows.sql).not.toContain("rollup_");
    const rolled = table({ dimensions: ["date"], metrics: ["sessions"] }, { source: "rollup" });
    expect(rolled.rows.sql).toContain("pulse_db.rollup_site_sessions_hourly");
    expect(rolled.rows.sql).toContain("max(gen)");
    const byCountry = table({ dimensions: ["country"], metrics: ["sessions"] }, { source: "rollup" });
    expect(byCountry.rows.sql).toContain("pulse_db.rollup_dimension_sessions_hourly WHERE site = {site:String} AND dimension = {dimension:String}");
    expect(byCountry.rows.params["dimension"]).toBe("country");
    // No time dimension and a range holding whole UTC days: those days from the daily rows, the hours around them from the hourly ones.
    expect(byCountry.rows.sql).toContain("pulse_db.rollup_dimension_sessions_daily");
    const berlin = table({ dimensions: ["country"], metrics: ["sessions"], dateRanges: [{ startDate: "2026-11-01", endDate: "2026-11-03" }] }, { source: "rollup", timezone: "Europe/Berlin" });
    expect(Object.values(berlin.rows.params)).toEqual(expect.arrayContaining(["2026-10-31 23:00:00.000", "2026-11-01 00:00:00.000", "2026-11-03 00:00:00.000", "2026-11-03 23:00:00.000"]));
    expect(table({ dimensions: ["date", "country"], metrics: ["sessions"] }, { source: "rollup" }).rows.sql).not.toContain("_daily");
    // A single Berlin day holds no whole UTC day.
    const oneDay = table({ dimensions: ["country"], metrics: ["sessions"], dateRanges: [{ startDate: "2026-11-01", endDate: "2026-11-01" }] }, { source: "rollup", timezone: "Europe/Berlin" });
    expect(oneDay.rows.sql).not.toContain("_daily");
    expect(table({ dimensions: ["device", "country"], metrics: ["sessions"] }, { source: "rollup" }).rows.sql).toContain("pulse_db.rollup_sessions_hourly");
    expect(refused(() => table({ dimensions: ["date"], metrics: ["newUsers"] }, { source: "rollup" }))).toMatch(/cannot be answered from the hourly rollups/);
    expect(refused(() => table({ metrics: ["sessions"] }, { source: "rollup", timezone: "Asia/Kolkata" }))).toMatch(/hourly rollups/);
  });

  it("turns the site's days into instants in its time zone", () => {
    const c = table({ metrics: ["sessions"] }, { timezone: "America/New_York", source: "raw" });
    const values = Object.values(c.rows.params);
    expect(values).toContain("2026-11-01 04:00:00.000");
    // The clocks went back on 1 November; the day after the range starts at 05:00 UTC.
    expect(values).toContain("2026-11-08 05:00:00.000");
    expect(c.rows.params["tz"]).toBe("America/New_York");
  });

  it("refuses a site whose time zone is unknown", () => {
    expect(refused(() => table({ metrics: ["sessions"] }, { timezone: "Mars/Olympus" }))).toMatch(/time zone "Mars\/Olympus"/);
  });

  it("adds a dateRange column when comparing, totals when asked, and orders deterministically", () => {
    const c = table({
      dateRanges: [...week, { startDate: "2026-10-25", endDate: "2026-10-31", name: "before" }],
      dimensions: ["country"],
      metrics: ["sessions", "engagementRate"],
      metricAggregations: ["TOTAL"],
      orderBys: [{ metric: { metricName: "engagementRate" }, desc: true }, { dimension: { dimensionName: "country", orderType: "CASE_INSENSITIVE_ALPHANUMERIC" } }],
    });
    expect(c.dimensionHeaders).toEqual(["country", "dateRange"]);
    expect(c.metricHeaders).toEqual([
      { name: "sessions", type: "TYPE_INTEGER" },
      { name: "engagementRate", type: "TYPE_FLOAT" },
    ]);
    expect(c.rows.sql).toMatch(/ORDER BY m1 DESC, lowerUTF8\(d0\) ASC, ri, d0 LIMIT \{limit:UInt64\} OFFSET \{offset:UInt64\}/);
    expect(c.totals?.sql).not.toContain("d0");
    expect(table({ metrics: ["sessions"] }).totals).toBeUndefined();
    expect(table({ metrics: ["sessions"] }).dimensionHeaders).toEqual([]);
  });

  it("counts visitors only for the page when the order does not need them", () => {
    const visitorCounts = (c: CompiledTable): number => c.rows.sql.split("groupBitmapMerge(visitor_bits)").length - 1;
    const top = (orderBys: unknown[], more: Record<string, unknown> = {}, over: Partial<ReportContext> = {}) =>
      table({ dimensions: ["pagePath"], metrics: ["screenPageViews", "activeUsers"], orderBys, limit: 10, ...more }, over);
    const byViews = [{ metric: { metricName: "screenPageViews" }, desc: true }];
    const pruned = top(byViews);
    // The page is ranked on event counts, then visitors are counted for its keys only.
    expect(visitorCounts(pruned)).toBe(1);
    expect(pruned.rows.sql).toMatch(/groupBitmapMerge\(visitor_bits\) AS e_users FROM .* AND \(value\) IN \(SELECT d0 FROM \(SELECT \*, count\(\) OVER \(\) AS __rows/s);
    expect(pruned.count.sql).not.toContain("groupBitmapMerge");
    // Ordered or filtered by visitors, without a metric order, or on the raw tables: every row's visitors are counted.
    expect(top([{ metric: { metricName: "activeUsers" }, desc: true }]).rows.sql).not.toContain("LEFT JOIN");
    expect(top(byViews, { metricFilter: { filter: { fieldName: "activeUsers", numericFilter: { operation: "GREATER_THAN", value: { int64Value: "1" } } } } }).rows.sql).not.toContain("LEFT JOIN");
    expect(top([{ dimension: { dimensionName: "pagePath" } }]).rows.sql).not.toContain("LEFT JOIN");
    expect(top(byViews, {}, { source: "raw" }).rows.sql).not.toContain("LEFT JOIN");
    expect(visitorCounts(top([{ metric: { metricName: "activeUsers" }, desc: true }]))).toBe(1);
  });

  it("merges visitor sets of the rollups in one thread", () => {
    expect(table({ dimensions: ["country"], metrics: ["activeUsers"] }).rows.sql).toMatch(/SETTINGS join_use_nulls = 0, max_threads = 1$/);
    expect(table({ metrics: ["sessions", "activeUsers"], metricAggregations: ["TOTAL"] }).rows.sql).toContain("max_threads = 1");
    expect(table({ dimensions: ["country"], metrics: ["activeUsers"] }, { source: "raw" }).rows.sql).not.toContain("max_threads");
    expect(table({ dimensions: ["country"], metrics: ["sessions"] }).rows.sql).not.toContain("max_threads");
  });

  it("drops all-zero rows unless asked to keep them", () => {
    expect(table({ metrics: ["sessions", "eventCount"] }).rows.sql).toContain("NOT (m0 = 0 AND m1 = 0)");
    expect(table({ metrics: ["sessions"], keepEmptyRows: true }).rows.sql).not.toContain("NOT (m0 = 0");
  });

  it("keeps dimensions of realtime reports out of runReport", () => {
    expect(refused(() => table({ dimensions: ["minutesAgo"], metrics: ["eventCount"] }))).toMatch(/only in realtime reports/);
  });

  it("compiles the same spec to the same SQL", () => {
    const spec = { dimensions: ["date", "param:x"], metrics: ["sessions", "activeUsers"], dimensionFilter: { filter: { fieldName: "country", stringFilter: { value: "GB" } } } };
    expect(table({ ...spec, metrics: ["activeUsers"] })).toEqual(table({ ...spec, metrics: ["activeUsers"] }));
  });
});

describe("compiling realtime reports", () => {
  it("reads raw events of the last minutes, relative to the given now", () => {
    const c = compile({ kind: "realtime", dimensions: ["minutesAgo", "country"], metrics: ["activeUsers", "screenPageViews"] });
    if (c.kind !== "table") throw new Error("table");
    expect(c.path).toBe("raw");
    expect(c.rows.sql).toContain("pulse_db.events FINAL");
    expect(c.rows.params["now"]).toBe(ctx.nowMs);
    expect(Object.values(c.rows.params)).toContain("2026-11-27 11:30:00.001");
    expect(Object.values(c.rows.params)).toContain("2026-11-27 12:00:00.001");
  });

  it("offers only event metrics", () => {
    expect(refused(() => compile({ kind: "realtime", metrics: ["sessions"] }))).toMatch(/not available in realtime reports/);
  });
});

describe("compiling funnels and retention", () => {
  const step = (field: string, value: string) => ({ filterExpression: { filter: { fieldName: field, stringFilter: { value } } } });

  it("binds step values and checks step fields", () => {
    const plain = compile({ kind: "funnel", site: "plain", dateRanges: week, steps: [step("pagePath", "plain"), step(`param:plain`, "plain")], scope: "session" });
    for (const evil of EVIL) {
      const c = compile({ kind: "funnel", site: evil, dateRanges: week, steps: [step("pagePath", evil), step(`param:${evil}`, evil)], scope: "session" });
      for (const q of queries(c)) assertNoClientText(q, evil);
      expect(queries(c)[0]?.sql).toBe(queries(plain)[0]?.sql);
      expect(c.kind === "funnel" && c.query.sql).toContain("SELECT session_id AS k");
      expect(refused(() => compile({ kind: "funnel", dateRanges: week, steps: [step(evil, "x"), step("eventName", "y")] }))).toMatch(/"steps\[0\].filterExpression" names/);
    }
    expect(refused(() => compile({ kind: "funnel", dateRanges: week, steps: [step("landingPage", "/"), step("eventName", "y")] }))).toMatch(/not a dimension of events/);
    expect(refused(() => compile({ kind: "funnel", dateRanges: week, steps: [step("minutesAgo", "1"), step("eventName", "y")] }))).toMatch(/not a dimension of events/);
  });

  it("binds the retention range and site", () => {
    const c = compile({ kind: "retention", site: EVIL[0], dateRanges: week, weeks: 4 });
    for (const q of queries(c)) assertNoClientText(q, EVIL[0] as string);
    expect(c.kind === "retention" && c.query.params).toMatchObject({ site: EVIL[0], weeks: 4, from: "2026-11-01 00:00:00.000", to: "2026-11-08 00:00:00.000" });
  });
});

describe("the first spec", () => {
  it("is answered as a UTC-day report of page views, visitors and sessions", () => {
    const c = compileReport(parseReportSpec({ site: "s1", from: "2026-11-01", to: "2026-11-02", dimensions: ["date"] }), { ...ctx, timezone: "Asia/Kolkata", source: "raw" }).compiled;
    if (c.kind !== "table") throw new Error("table");
    expect(c.rows.params["tz"]).toBe("UTC");
    expect(Object.values(c.rows.params)).toContain("2026-11-01 00:00:00.000");
    expect(c.metricHeaders.map((h) => h.name)).toEqual(["screenPageViews", "activeUsers", "sessions"]);
  });
});
