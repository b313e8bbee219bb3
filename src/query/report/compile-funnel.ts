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
 * A funnel over raw events. Per visitor (or session), the events that match any step are
 * folded in log order, keeping for every step the latest start of a chain that has reached it:
 * an event of step N extends the chain of step N-1 when it falls within the window of that
 * chain's start. A later start leaves the most room, so the deepest step reached is exact.
 * (ClickHouse's windowFunnel restarts at every step-1 event, which loses chains when steps overlap.)
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
  p.set("steps", spec.steps.length);
  const key = spec.scope === "visitor" ? "visitor_id" : "session_id";
  const mask = steps.map((c, i) => `toUInt16(${c}) * ${2 ** i}`).join(" + ");
  const extend = `if(i = 1, if(bitTest(x.3, 0), x.1, acc[1]), if(bitTest(x.3, i - 1) AND acc[i - 1] >= 0 AND x.1 - acc[i - 1] <= {window:Int64}, greatest(acc[i], acc[i - 1]), acc[i]))`;
  const sql = `SELECT level, count() AS n FROM (
  SELECT arrayCount(s -> s >= 0, arrayFold((acc, x) -> arrayMap(i -> ${extend}, range(1, {steps:UInt64} + 1)), arraySort(groupArray((t, seq, mask))), arrayWithConstant({steps:UInt64}, toInt64(-1)))) AS level
  FROM (
    SELECT ${key} AS k, toUnixTimestamp64Milli(ts) AS t, seq, ${mask} AS mask
    FROM ${ctx.database}.events FINAL
    WHERE site = {site:String} AND is_bot = 0 AND ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')${filter}
  )
  WHERE mask > 0
  GROUP BY k
) WHERE level > 0 GROUP BY level ORDER BY level`;
  return { kind: "funnel", query: { sql, params: p.all }, steps: spec.steps.map((s) => s.name), scope: spec.scope };
};
