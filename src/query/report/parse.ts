import { array, boolean, integer, invalid, isObject, object, onlyKeys, quote, site, string } from "./input.js";
import { parseLegacy } from "./legacy.js";
import { parseFilter } from "./parse-filter.js";
import { checkDay } from "./time.js";
import type { DateRange, FunnelSpec, OrderBy, RealtimeSpec, ReportSpec, RetentionSpec, RunReportSpec } from "./spec.js";

const MAX_LIMIT = 100_000;

const names = (v: unknown, field: string, key: "name", max: number, min: number): string[] => {
  const list = array(v ?? [], field, min, max).map((x, i) => {
    if (typeof x === "string") return string(x, `${field}[${i}]`, 200);
    const o = object(x, `${field}[${i}]`);
    onlyKeys(o, [key], `${field}[${i}]`);
    return string(o[key], `${field}[${i}].${key}`, 200);
  });
  const dup = list.find((n, i) => list.indexOf(n) !== i);
  if (dup !== undefined) throw invalid(`${quote(dup)} appears twice in "${field}"`);
  return list;
};

const dateRange = (v: unknown, field: string, i: number): DateRange => {
  const o = object(v, field);
  onlyKeys(o, ["startDate", "endDate", "name"], field);
  const startDate = string(o["startDate"], `${field}.startDate`, 20);
  const endDate = string(o["endDate"], `${field}.endDate`, 20);
  checkDay(startDate, `${field}.startDate`);
  checkDay(endDate, `${field}.endDate`);
  const name = o["name"] === undefined ? `date_range_${i}` : string(o["name"], `${field}.name`, 64);
  if (name === "") throw invalid(`"${field}.name" must not be empty`);
  return { startDate, endDate, name };
};

const ORDER_TYPES = ["ALPHANUMERIC", "CASE_INSENSITIVE_ALPHANUMERIC", "NUMERIC"] as const;

const orderBys = (v: unknown): OrderBy[] =>
  array(v ?? [], "orderBys", 0, 20).map((x, i) => {
    const at = `orderBys[${i}]`;
    const o = object(x, at);
    onlyKeys(o, ["metric", "dimension", "desc"], at);
    const desc = boolean(o["desc"], `${at}.desc`, false);
    if ((o["metric"] === undefined) === (o["dimension"] === undefined)) throw invalid(`"${at}" needs exactly one of metric, dimension`);
    if (o["metric"] !== undefined) {
      const m = object(o["metric"], `${at}.metric`);
      onlyKeys(m, ["metricName"], `${at}.metric`);
      return { kind: "metric", name: string(m["metricName"], `${at}.metric.metricName`, 200), desc };
    }
    const d = object(o["dimension"], `${at}.dimension`);
    onlyKeys(d, ["dimensionName", "orderType"], `${at}.dimension`);
    const orderType = d["orderType"] ?? "ALPHANUMERIC";
    if (!ORDER_TYPES.includes(orderType as (typeof ORDER_TYPES)[number])) throw invalid(`"${at}.dimension.orderType" must be one of ${ORDER_TYPES.join(", ")}`);
    return { kind: "dimension", name: string(d["dimensionName"], `${at}.dimension.dimensionName`, 200), desc, orderType: orderType as (typeof ORDER_TYPES)[number] };
  });

const aggregations = (v: unknown): boolean => {
  const list = array(v ?? [], "metricAggregations", 0, 3);
  for (const a of list) if (a !== "TOTAL") throw invalid(`"metricAggregations" supports only "TOTAL", got ${quote(a)}`);
  return list.length > 0;
};

const TABLE_FIELDS = ["site", "kind", "dimensions", "metrics", "dimensionFilter", "metricFilter", "orderBys", "limit", "offset", "metricAggregations", "keepEmptyRows"];

const table = (o: Record<string, unknown>) => ({
  site: site(o["site"]),
  dimensions: names(o["dimensions"], "dimensions", "name", 9, 0),
  metrics: names(o["metrics"], "metrics", "name", 16, 1),
  dimensionFilter: o["dimensionFilter"] === undefined ? undefined : parseFilter(o["dimensionFilter"], "dimensionFilter"),
  metricFilter: o["metricFilter"] === undefined ? undefined : parseFilter(o["metricFilter"], "metricFilter"),
  orderBys: orderBys(o["orderBys"]),
  limit: integer(o["limit"], "limit", 1, MAX_LIMIT, 10_000),
  offset: integer(o["offset"], "offset", 0, 1_000_000_000, 0),
  totals: aggregations(o["metricAggregations"]),
  keepEmptyRows: boolean(o["keepEmptyRows"], "keepEmptyRows", false),
});

const runReport = (o: Record<string, unknown>): RunReportSpec => {
  onlyKeys(o, [...TABLE_FIELDS, "dateRanges"], "query");
  const ranges = array(o["dateRanges"], "dateRanges", 1, 4).map((r, i) => dateRange(r, `dateRanges[${i}]`, i));
  const dup = ranges.find((r, i) => ranges.findIndex((x) => x.name === r.name) !== i);
  if (dup) throw invalid(`the date range name ${quote(dup.name)} appears twice`);
  return { kind: "report", ...table(o), dateRanges: ranges };
};

const realtime = (o: Record<string, unknown>): RealtimeSpec => {
  onlyKeys(o, [...TABLE_FIELDS, "minuteRanges"], "query");
  const ranges = array(o["minuteRanges"] ?? [{}], "minuteRanges", 1, 2).map((r, i) => {
    const at = `minuteRanges[${i}]`;
    const m = object(r, at);
    onlyKeys(m, ["name", "startMinutesAgo", "endMinutesAgo"], at);
    const startMinutesAgo = integer(m["startMinutesAgo"], `${at}.startMinutesAgo`, 0, 59, 29);
    const endMinutesAgo = integer(m["endMinutesAgo"], `${at}.endMinutesAgo`, 0, 59, 0);
    if (endMinutesAgo > startMinutesAgo) throw invalid(`"${at}.endMinutesAgo" must not be above startMinutesAgo`);
    return { name: m["name"] === undefined ? `date_range_${i}` : string(m["name"], `${at}.name`, 64), startMinutesAgo, endMinutesAgo };
  });
  return { kind: "realtime", ...table(o), minuteRanges: ranges };
};

const funnel = (o: Record<string, unknown>): FunnelSpec => {
  onlyKeys(o, ["site", "kind", "dateRanges", "steps", "scope", "windowMinutes", "dimensionFilter"], "query");
  const [range] = array(o["dateRanges"], "dateRanges", 1, 1);
  const steps = array(o["steps"], "steps", 2, 10).map((s, i) => {
    const at = `steps[${i}]`;
    const step = object(s, at);
    onlyKeys(step, ["name", "filterExpression"], at);
    return { name: step["name"] === undefined ? `step ${i + 1}` : string(step["name"], `${at}.name`, 100), filter: parseFilter(step["filterExpression"], `${at}.filterExpression`) };
  });
  const scope = o["scope"] ?? "visitor";
  if (scope !== "visitor" && scope !== "session") throw invalid(`"scope" must be "visitor" or "session", got ${quote(scope)}`);
  return {
    kind: "funnel",
    site: site(o["site"]),
    dateRange: dateRange(range, "dateRanges[0]", 0),
    steps,
    scope,
    windowMinutes: integer(o["windowMinutes"], "windowMinutes", 1, 90 * 24 * 60, scope === "session" ? 24 * 60 : 30 * 24 * 60),
    dimensionFilter: o["dimensionFilter"] === undefined ? undefined : parseFilter(o["dimensionFilter"], "dimensionFilter"),
  };
};

const retention = (o: Record<string, unknown>): RetentionSpec => {
  onlyKeys(o, ["site", "kind", "dateRanges", "weeks"], "query");
  const [range] = array(o["dateRanges"], "dateRanges", 1, 1);
  return { kind: "retention", site: site(o["site"]), dateRange: dateRange(range, "dateRanges[0]", 0), weeks: integer(o["weeks"], "weeks", 0, 52, 8) };
};

/**
 * Validates a report request from a client. `kind` picks the report (absent: runReport when
 * `dateRanges` is given, else the first spec with `from`/`to`). Field names are checked
 * against the catalogue when the report is compiled.
 */
export const parseReportSpec = (raw: unknown): ReportSpec => {
  if (!isObject(raw)) throw invalid("the query must be an object");
  const kind = raw["kind"];
  if (kind === "realtime") return realtime(raw);
  if (kind === "funnel") return funnel(raw);
  if (kind === "retention") return retention(raw);
  if (kind === "report" || (kind === undefined && raw["dateRanges"] !== undefined)) return runReport(raw);
  if (kind === undefined) return parseLegacy(raw);
  throw invalid(`unknown "kind" ${quote(kind)}; known: report, realtime, funnel, retention`);
};
