import { describe, expect, it } from "vitest";
import { InvalidInput } from "../core/errors.js";
import { compileReport, parseReportSpec, shapeRow, type ReportSpec } from "./report.js";

const base = { site: "site1", from: "2026-03-01", to: "2026-03-31" };

const refused = (raw: unknown): InvalidInput => {
  try {
    parseReportSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    const err = e as InvalidInput;
    expect(err.code).toBe("invalid_query");
    expect(err.status).toBe(400);
    return err;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
};

const spec = (over: Partial<ReportSpec> = {}): ReportSpec => ({ ...base, metrics: ["pageviews", "visitors", "sessions"], dimensions: [], ...over });

describe("parseReportSpec", () => {
  it("accepts a full spec as given", () => {
    expect(parseReportSpec({ ...base, metrics: ["sessions", "pageviews"], dimensions: ["date"] })).toEqual({
      site: "site1",
      from: "2026-03-01",
      to: "2026-03-31",
      metrics: ["sessions", "pageviews"],
      dimensions: ["date"],
    });
  });

  it("defaults to every metric and no dimension", () => {
    expect(parseReportSpec(base)).toEqual({ ...base, metrics: ["pageviews", "visitors", "sessions"], dimensions: [] });
    expect(parseReportSpec({ ...base, metrics: null }).metrics).toEqual(["pageviews", "visitors", "sessions"]);
  });

  it("accepts a one-day range", () => {
    expect(parseReportSpec({ ...base, to: base.from }).to).toBe("2026-03-01");
  });

  it.each([
    ["null", null],
    ["an array", [base]],
    ["a string", "site1"],
    ["undefined", undefined],
  ])("refuses a query that is %s", (_what, raw) => {
    expect(refused(raw).message).toMatch(/must be an object/);
  });

  it.each([
    ["absent", { from: base.from, to: base.to }],
    ["empty", { ...base, site: "" }],
    ["a number", { ...base, site: 7 }],
  ])("refuses a site that is %s", (_what, raw) => {
    expect(refused(raw).message).toContain('"site"');
  });

  it.each([
    ["from", "2026-3-01"],
    ["from", "2026/03/01"],
    ["from", "01-03-2026"],
    ["from", "2026-03-01T00:00:00Z"],
    ["from", "2026-13-01"],
    ["from", "2026-01-32"],
    ["from", "2026-00-10"],
    ["from", ""],
    ["from", 20260301],
    ["from", undefined],
    ["to", "yesterday"],
    ["to", " 2026-03-31"],
    ["to", null],
  ])("refuses %s = %j", (field, value) => {
    expect(refused({ ...base, [field]: value }).message).toContain(`"${field}"`);
  });

  it("refuses a range whose end is before its start", () => {
    expect(refused({ ...base, from: "2026-03-02", to: "2026-03-01" }).message).toMatch(/"to" is before "from"/);
    expect(refused({ ...base, from: "2026-01-01", to: "2025-12-31" }).message).toMatch(/before/);
  });

  it("refuses an unknown metric and names it", () => {
    const e = refused({ ...base, metrics: ["pageviews", "bounces"] });
    expect(e.message).toContain('unknown metric "bounces"');
    expect(e.message).toContain("pageviews, visitors, sessions");
  });

  it("refuses a non-string metric", () => {
    expect(refused({ ...base, metrics: [1] }).message).toContain("unknown metric 1");
  });

  it("refuses an unknown dimension and names it", () => {
    expect(refused({ ...base, dimensions: ["country"] }).message).toContain('unknown dimension "country"');
  });

  it.each([
    ["metrics", "pageviews"],
    ["metrics", { pageviews: true }],
    ["dimensions", "date"],
    ["dimensions", null],
  ])("refuses %s that is not an array", (field, value) => {
    expect(refused({ ...base, [field]: value }).message).toBe(`"${field}" must be an array`);
  });

  it("refuses an empty metric list", () => {
    expect(refused({ ...base, metrics: [] }).message).toMatch(/at least one metric/);
  });

  it.each([["2026-02-30"], ["2026-02-31"], ["2026-04-31"], ["2025-02-29"]])("refuses the nonexistent day %s", (day) => {
    expect(refused({ ...base, from: day, to: "2026-12-31" }).message).toMatch(/real day/);
  });

  it("accepts 29 February in a leap year", () => {
    expect(parseReportSpec({ ...base, from: "2028-02-29", to: "2028-02-29" }).from).toBe("2028-02-29");
  });

  it("refuses fields it does not know, rather than ignoring them", () => {
    expect(refused({ ...base, filters: [] }).message).toMatch(/unknown query field "filters"/);
  });

  it("lists a metric asked twice once", () => {
    expect(parseReportSpec({ ...base, metrics: ["visitors", "visitors", "sessions"] }).metrics).toEqual(["visitors", "sessions"]);
  });
});

describe("compileReport", () => {
  it("never puts client values into the SQL text and binds them as parameters", () => {
    const evil = "x' OR 1=1 --";
    const s = parseReportSpec({ ...base, site: evil });
    const q = compileReport(s, "pulse");
    expect(q.sql).not.toContain(evil);
    expect(q.sql).not.toContain("OR 1=1");
    expect(q.sql).not.toContain("2026-03-01");
    expect(q.sql).not.toContain("2026-03-31");
    expect(q.params).toEqual({ site: evil, from: "2026-03-01", to: "2026-03-31" });
    expect(q.sql).toContain("{site:String}");
    expect(q.sql).toContain("{from:String}");
    expect(q.sql).toContain("{to:String}");
  });

  it("keeps every quote in the SQL text balanced whatever the site", () => {
    const q = compileReport(spec({ site: "a'b\"c`d\\" }), "pulse");
    expect(q.sql).not.toContain("a'b");
    expect((q.sql.match(/'/g) ?? []).length % 2).toBe(0);
  });

  it("reads from the tables of the given database", () => {
    const q = compileReport(spec(), "analytics_x");
    expect(q.sql).toContain("FROM analytics_x.events FINAL");
    expect(q.sql).toContain("FROM analytics_x.sessions FINAL");
    expect(q.sql).not.toContain("pulse.");
  });

  it("groups by day only with the date dimension", () => {
    const byDate = compileReport(spec({ dimensions: ["date"] }), "pulse");
    expect(byDate.sql).toContain("toString(toDate(ts))");
    expect(byDate.sql).toContain("toString(toDate(start))");
    expect(byDate.sql).not.toContain("'total'");
    const total = compileReport(spec(), "pulse");
    expect(total.sql).not.toContain("toDate(");
    expect(total.sql).toContain("'total' AS k");
  });

  it("lists the columns as date first, then the metrics in the order asked", () => {
    expect(compileReport(spec({ metrics: ["sessions", "pageviews"], dimensions: ["date"] }), "pulse").columns).toEqual(["date", "sessions", "pageviews"]);
    expect(compileReport(spec({ metrics: ["visitors"] }), "pulse").columns).toEqual(["visitors"]);
    expect(compileReport(spec(), "pulse").columns).toEqual(["pageviews", "visitors", "sessions"]);
  });

  it("compiles the same spec to the same query", () => {
    expect(compileReport(spec({ dimensions: ["date"] }), "pulse")).toEqual(compileReport(spec({ dimensions: ["date"] }), "pulse"));
  });
});

describe("shapeRow", () => {
  it("keeps only the asked columns, in order, and turns 64-bit counts into numbers", () => {
    const s = spec({ metrics: ["sessions", "pageviews"], dimensions: ["date"] });
    const out = shapeRow(s, { k: "2026-03-05", pageviews: "120", visitors: "40", sessions: "55" });
    expect(out).toEqual({ date: "2026-03-05", sessions: 55, pageviews: 120 });
    expect(Object.keys(out)).toEqual(compileReport(s, "pulse").columns);
  });

  it("leaves out the date without the date dimension", () => {
    expect(shapeRow(spec(), { k: "total", pageviews: 3, visitors: 2, sessions: 1 })).toEqual({ pageviews: 3, visitors: 2, sessions: 1 });
  });

  it("reads a missing or null metric as 0", () => {
    expect(shapeRow(spec({ dimensions: ["date"] }), { k: "2026-03-05", pageviews: "4", sessions: null })).toEqual({
      date: "2026-03-05",
      pageviews: 4,
      visitors: 0,
      sessions: 0,
    });
  });
});
