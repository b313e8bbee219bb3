import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { parseReportSpec } from "./parse.js";
import type { LegacySpec } from "./spec.js";

const legacy = (raw: unknown): LegacySpec => parseReportSpec(raw) as LegacySpec;

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

describe("the first spec", () => {
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
    expect(legacy({ ...base, metrics: null }).metrics).toEqual(["pageviews", "visitors", "sessions"]);
  });

  it("accepts a one-day range", () => {
    expect(legacy({ ...base, to: base.from }).to).toBe("2026-03-01");
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
    expect(legacy({ ...base, from: "2028-02-29", to: "2028-02-29" }).from).toBe("2028-02-29");
  });

  it("refuses fields it does not know, rather than ignoring them", () => {
    expect(refused({ ...base, filters: [] }).message).toMatch(/unknown field "filters"/);
  });

  it("lists a metric asked twice once", () => {
    expect(legacy({ ...base, metrics: ["visitors", "visitors", "sessions"] }).metrics).toEqual(["visitors", "sessions"]);
  });
});
