import { findDimension, type Source } from "./fields.js";
import { filterFields } from "./parse-filter.js";
import { filterSql, type FieldSql } from "./filter-sql.js";
import { invalid, quote } from "./input.js";
import { Params } from "./params.js";
import { chTime, checkZone, interval } from "./time.js";
import type { BoundQuery, ReportContext } from "./context.js";
import type { FilterExpression, FunnelSpec } from "./spec.js";

export interface CompiledFunnel {
  readonly kind: "funnel";
  /** Rows `{level, n}`: how many visitors (or sessions) got exactly that far. */
  readonly query: BoundQuery;
  readonly steps: readonly string[];
  readonly scope: FunnelSpec["scope"];
}

const EVENTS: Source = { side: "events", path: "raw", time: "ts" };

/**
 * A funnel over raw events: ClickHouse's windowFunnel finds, per visitor or session, how many
 * steps were done in order (each strictly after the previous) within the window from step 1.
 */
export const compileFunnel = (spec: FunnelSpec, ctx: ReportContext): CompiledFunnel => {
  checkZone(ctx.timezone);
  const p = new Params();
  p.set("site", spec.site);
  p.set("tz", ctx.timezone);
  const field =
    (where: string): FieldSql =>
    (name) => {
      const d = findDimension(name, (v) => p.bind("String", v));
      const sql = d?.realtime ? undefined : d?.expr(EVENTS);
      if (sql === undefined) throw invalid(`"${where}" names ${quote(name)}, which is not a dimension of events (such as eventName, pagePath, param:<name>)`);
      return { sql, numeric: false };
    };
  const condition = (f: FilterExpression, where: string): string => {
    for (const n of filterFields(f)) field(where)(n);
    return filterSql(f, field(where), p);
  };
  const steps = spec.steps.map((s, i) => condition(s.filter, `steps[${i}].filterExpression`));
  const filter = spec.dimensionFilter ? ` AND ${condition(spec.dimensionFilter, "dimensionFilter")}` : "";
  const range = interval(spec.dateRange, ctx.timezone, ctx.nowMs, "dateRanges[0]");
  p.set("from", chTime(range.fromMs));
  p.set("to", chTime(range.toMs));
  p.set("window", spec.windowMinutes * 60_000);
  const key = spec.scope === "visitor" ? "visitor_id" : "session_id";
  const sql = `SELECT level, count() AS n FROM (
  SELECT windowFunnel({window:UInt64}, 'strict_increase')(toUInt64(toUnixTimestamp64Milli(ts)), ${steps.join(", ")}) AS level
  FROM ${ctx.database}.events FINAL
  WHERE site = {site:String} AND is_bot = 0 AND ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')${filter}
  GROUP BY ${key}
) WHERE level > 0 GROUP BY level ORDER BY level`;
  return { kind: "funnel", query: { sql, params: p.all }, steps: spec.steps.map((s) => s.name), scope: spec.scope };
};
