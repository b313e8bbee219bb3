import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { parseReportSpec } from "./parse.js";

const range = { startDate: "2026-11-01", endDate: "2026-11-07" };
const base = { site: "s1", dateRanges: [range], metrics: [{ name: "sessions" }] };

const refused = (raw: unknown): string => {
  try {
    parseReportSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as InvalidInput).code).toBe("invalid_query");
    return (e as InvalidInput).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
};

const filter = (f: unknown) => ({ ...base, dimensionFilter: { filter: { fieldName: "pagePath", ...(f as object) } } });

describe("runReport specs", () => {
  it("fills GA4's defaults", () => {
    expect(parseReportSpec(base)).toEqual({
      kind: "report",
      site: "s1",
      dateRanges: [{ ...range, name: "date_range_0" }],
      dimensions: [],
      metrics: ["sessions"],
      dimensionFilter: undefined,
      metricFilter: undefined,
      orderBys: [],
      limit: 10_000,
      offset: 0,
      totals: false,
      keepEmptyRows: false,
    });
  });

  it("takes names as {name} objects or plain strings, and everything GA4 sends", () => {
    const s = parseReportSpec({
      ...base,
      kind: "report",
      dateRanges: [range, { startDate: "7daysAgo", endDate: "yesterday", name: "prev" }],
      dimensions: ["date", { name: "param:plan" }],
      metrics: ["sessions", { name: "activeUsers" }],
      orderBys: [{ metric: { metricName: "sessions" }, desc: true }, { dimension: { dimensionName: "date", orderType: "NUMERIC" } }],
      limit: "50",
      offset: 10,
      metricAggregations: ["TOTAL"],
      keepEmptyRows: true,
      metricFilter: { filter: { fieldName: "sessions", numericFilter: { operation: "GREATER_THAN", value: { int64Value: "3" } } } },
    });
    expect(s).toMatchObject({
      dimensions: ["date", "param:plan"],
      metrics: ["sessions", "activeUsers"],
      dateRanges: [{ name: "date_range_0" }, { name: "prev", startDate: "7daysAgo" }],
      orderBys: [
        { kind: "metric", name: "sessions", desc: true },
        { kind: "dimension", name: "date", desc: false, orderType: "NUMERIC" },
      ],
      limit: 50,
      offset: 10,
      totals: true,
      keepEmptyRows: true,
      metricFilter: { kind: "filter", field: "sessions", test: { kind: "numeric", operation: "GREATER_THAN", value: 3 } },
    });
  });

  it("parses nested filter expressions", () => {
    const s = parseReportSpec({
      ...base,
      dimensionFilter: {
        andGroup: {
          expressions: [
            { filter: { fieldName: "country", inListFilter: { values: ["GB", "FR"] } } },
            { notExpression: { orGroup: { expressions: [{ filter: { fieldName: "pagePath", stringFilter: { matchType: "BEGINS_WITH", value: "/admin", caseSensitive: true } } }, { filter: { fieldName: "hour", betweenFilter: { fromValue: 1, toValue: { doubleValue: 2.5 } } } }] } } },
            { filter: { fieldName: "city", emptyFilter: {} } },
          ],
        },
      },
    });
    expect(s).toMatchObject({
      dimensionFilter: {
        kind: "and",
        items: [
          { kind: "filter", field: "country", test: { kind: "inList", values: ["GB", "FR"], caseSensitive: false } },
          { kind: "not", item: { kind: "or", items: [{ test: { kind: "string", matchType: "BEGINS_WITH", value: "/admin", caseSensitive: true } }, { test: { kind: "between", from: 1, to: 2.5 } }] } },
          { kind: "filter", field: "city", test: { kind: "empty" } },
        ],
      },
    });
  });

  it("keeps field names and values exactly as sent, metacharacters included, for the compiler to check or bind", () => {
    const evil = `x'; DROP TABLE events; -- {site:String} \\ " \u202e 𝒳`;
    const s = parseReportSpec({ ...base, dimensions: [evil], dimensionFilter: { filter: { fieldName: evil, stringFilter: { value: evil } } } });
    expect(s).toMatchObject({ dimensions: [evil], dimensionFilter: { field: evil, test: { value: evil } } });
  });

  it.each([
    ["no date range", { ...base, dateRanges: [] }, /"dateRanges" must hold 1 to 4 items/],
    ["five date ranges", { ...base, dateRanges: [range, range, range, range, range] }, /1 to 4/],
    ["a bad day", { ...base, dateRanges: [{ startDate: "2026-02-30", endDate: "2026-03-01" }] }, /dateRanges\[0\].startDate" must be a real day/],
    ["a day in another format", { ...base, dateRanges: [{ startDate: "01/02/2026", endDate: "2026-03-01" }] }, /real day/],
    ["a missing end", { ...base, dateRanges: [{ startDate: "2026-03-01" }] }, /"dateRanges\[0\].endDate" must be a string/],
    ["an unknown range field", { ...base, dateRanges: [{ ...range, tz: "UTC" }] }, /unknown field "tz" in "dateRanges\[0\]"/],
    ["two ranges of one name", { ...base, dateRanges: [{ ...range, name: "a" }, { ...range, name: "a" }] }, /"a" appears twice/],
    ["an empty range name", { ...base, dateRanges: [{ ...range, name: "" }] }, /must not be empty/],
    ["no metric", { ...base, metrics: [] }, /"metrics" must hold 1 to 16 items/],
    ["a metric twice", { ...base, metrics: ["sessions", { name: "sessions" }] }, /"sessions" appears twice in "metrics"/],
    ["a numeric metric name", { ...base, metrics: [5] }, /"metrics\[0\]" must be an object/],
    ["a metric object with more", { ...base, metrics: [{ name: "sessions", expression: "1" }] }, /unknown field "expression"/],
    ["ten dimensions", { ...base, dimensions: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] }, /"dimensions" must hold 0 to 9 items/],
    ["a limit of 0", { ...base, limit: 0 }, /"limit" must be an integer from 1 to 100000/],
    ["a fractional limit", { ...base, limit: 1.5 }, /"limit"/],
    ["a negative offset", { ...base, offset: -1 }, /"offset"/],
    ["an unknown aggregation", { ...base, metricAggregations: ["MAXIMUM"] }, /only "TOTAL"/],
    ["a keepEmptyRows string", { ...base, keepEmptyRows: "yes" }, /"keepEmptyRows" must be true or false/],
    ["an unknown field", { ...base, dimensionFilters: {} }, /unknown field "dimensionFilters" in "query"/],
    ["an unknown kind", { ...base, kind: "pivot" }, /unknown "kind" "pivot"/],
    ["an order by both", { ...base, orderBys: [{ metric: { metricName: "sessions" }, dimension: { dimensionName: "date" } }] }, /exactly one of metric, dimension/],
    ["an order type unknown", { ...base, orderBys: [{ dimension: { dimensionName: "date", orderType: "RANDOM" } }] }, /orderType/],
    ["a site missing", { ...base, site: undefined }, /"site" is required/],
    ["a huge site", { ...base, site: "s".repeat(300) }, /"site" is longer than 256/],
  ])("refuses %s", (_what, raw, message) => {
    expect(refused(raw)).toMatch(message);
  });

  it.each([
    ["two kinds of filter", { stringFilter: { value: "a" }, inListFilter: { values: ["a"] } }, /exactly one of stringFilter/],
    ["no filter", {}, /exactly one of stringFilter/],
    ["an unknown match type", { stringFilter: { matchType: "LIKE", value: "a" } }, /matchType" must be one of EXACT/],
    ["a value that is not a string", { stringFilter: { value: 1 } }, /value" must be a string/],
    ["an over-long value", { stringFilter: { value: "x".repeat(1001) } }, /longer than 1000/],
    ["a broken regex", { stringFilter: { matchType: "FULL_REGEXP", value: "(a" } }, /not a valid regular expression: "\(a"/],
    ["a lookahead", { stringFilter: { matchType: "PARTIAL_REGEXP", value: "a(?=b)" } }, /lookaround or a backreference/],
    ["a backreference", { stringFilter: { matchType: "PARTIAL_REGEXP", value: "(a)\\1" } }, /lookaround or a backreference/],
    ["an empty list", { inListFilter: { values: [] } }, /values" must hold 1 to 1000/],
    ["a list of numbers", { inListFilter: { values: [1] } }, /values\[0\]" must be a string/],
    ["an unknown operation", { numericFilter: { operation: "NOT_EQUAL", value: 1 } }, /operation" must be one of EQUAL/],
    ["a number that is not finite", { numericFilter: { operation: "EQUAL", value: { doubleValue: "NaN" } } }, /finite doubleValue/],
    ["a between upside down", { betweenFilter: { fromValue: 5, toValue: 1 } }, /below its fromValue/],
    ["an empty filter with options", { emptyFilter: { x: 1 } }, /unknown field "x"/],
  ])("refuses a filter with %s", (_what, f, message) => {
    expect(refused(filter(f))).toMatch(message);
  });

  it("refuses filter groups that are malformed, too deep or too wide", () => {
    expect(refused({ ...base, dimensionFilter: { andGroup: { expressions: [] } } })).toMatch(/expressions" must hold 1 to 50/);
    expect(refused({ ...base, dimensionFilter: { andGroup: {}, orGroup: {} } })).toMatch(/exactly one of andGroup/);
    expect(refused({ ...base, dimensionFilter: { xorGroup: {} } })).toMatch(/unknown field "xorGroup"/);
    let deep: unknown = { filter: { fieldName: "a", emptyFilter: {} } };
    for (let i = 0; i < 8; i++) deep = { notExpression: deep };
    expect(refused({ ...base, dimensionFilter: deep })).toMatch(/nested deeper than 6/);
    const wide = Array.from({ length: 30 }, () => ({ filter: { fieldName: "a", emptyFilter: {} } }));
    expect(refused({ ...base, dimensionFilter: { andGroup: { expressions: [{ andGroup: { expressions: wide } }, { andGroup: { expressions: wide } }] } } })).toMatch(/more than 50 filters/);
  });
});

describe("realtime, funnel and retention specs", () => {
  it("reads a realtime spec with GA4's default of the last 30 minutes", () => {
    expect(parseReportSpec({ site: "s1", kind: "realtime", dimensions: ["minutesAgo"], metrics: ["activeUsers"] })).toMatchObject({
      kind: "realtime",
      minuteRanges: [{ name: "date_range_0", startMinutesAgo: 29, endMinutesAgo: 0 }],
    });
    expect(refused({ site: "s1", kind: "realtime", metrics: ["activeUsers"], minuteRanges: [{ startMinutesAgo: 5, endMinutesAgo: 10 }] })).toMatch(/endMinutesAgo" must not be above/);
    expect(refused({ site: "s1", kind: "realtime", metrics: ["activeUsers"], minuteRanges: [{ startMinutesAgo: 60 }] })).toMatch(/from 0 to 59/);
    expect(refused({ site: "s1", kind: "realtime", metrics: ["activeUsers"], dateRanges: [range] })).toMatch(/unknown field "dateRanges"/);
  });

  it("reads a funnel", () => {
    const step = (v: string) => ({ filterExpression: { filter: { fieldName: "eventName", stringFilter: { value: v } } } });
    expect(parseReportSpec({ site: "s1", kind: "funnel", dateRanges: [range], steps: [{ ...step("view"), name: "seen" }, step("buy")], scope: "session" })).toMatchObject({
      kind: "funnel",
      steps: [{ name: "seen" }, { name: "step 2" }],
      scope: "session",
      windowMinutes: 1440,
    });
    expect(refused({ site: "s1", kind: "funnel", dateRanges: [range], steps: [step("a")] })).toMatch(/"steps" must hold 2 to 10/);
    expect(refused({ site: "s1", kind: "funnel", dateRanges: [range, range], steps: [step("a"), step("b")] })).toMatch(/"dateRanges" must hold 1 items/);
    expect(refused({ site: "s1", kind: "funnel", dateRanges: [range], steps: [step("a"), step("b")], scope: "user" })).toMatch(/"scope"/);
    expect(refused({ site: "s1", kind: "funnel", dateRanges: [range], steps: [step("a"), {}] })).toMatch(/"steps\[1\].filterExpression" must be an object/);
  });

  it("reads a retention spec", () => {
    expect(parseReportSpec({ site: "s1", kind: "retention", dateRanges: [range] })).toEqual({ kind: "retention", site: "s1", dateRange: { ...range, name: "date_range_0" }, weeks: 8 });
    expect(refused({ site: "s1", kind: "retention", dateRanges: [range], weeks: 53 })).toMatch(/"weeks"/);
  });
});
