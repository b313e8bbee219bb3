import { Params } from "./params.js";
import { chTime, checkZone, interval, localDay } from "./time.js";
import type { BoundQuery, ReportContext } from "./context.js";
import type { RetentionSpec } from "./spec.js";

export interface CompiledRetention {
  readonly kind: "retention";
  /** Rows `{cohort, week, users}`: visitors of a cohort with a session in its week N. */
  readonly query: BoundQuery;
  readonly weeks: number;
  /** The site's local today, to leave out weeks that have not begun. */
  readonly today: string;
}

/**
 * Weekly cohorts: a visitor belongs to the ISO week (Monday, site time) of its first session
 * ever, when that first session falls in the date range; it is retained in week N when it has
 * a session starting N weeks after its cohort week.
 */
export const compileRetention = (spec: RetentionSpec, ctx: ReportContext): CompiledRetention => {
  checkZone(ctx.timezone);
  const range = interval(spec.dateRange, ctx.timezone, ctx.nowMs, "dateRanges[0]");
  const p = new Params();
  p.set("site", spec.site);
  p.set("tz", ctx.timezone);
  p.set("from", chTime(range.fromMs));
  p.set("to", chTime(range.toMs));
  p.set("weeks", spec.weeks);
  const db = ctx.database;
  const sql = `SELECT toString(f.cohort) AS cohort, intDiv(dateDiff('day', f.cohort, toMonday(s.start, {tz:String})), 7) AS week, uniqExact(s.visitor_id) AS users
FROM ${db}.sessions AS s FINAL
INNER JOIN (
  SELECT visitor_id, toMonday(min(start), {tz:String}) AS cohort
  FROM ${db}.sessions FINAL WHERE site = {site:String} AND is_bot = 0
  GROUP BY visitor_id
  HAVING min(start) >= toDateTime64({from:String}, 3, 'UTC') AND min(start) < toDateTime64({to:String}, 3, 'UTC')
) AS f ON s.visitor_id = f.visitor_id
WHERE s.site = {site:String} AND s.is_bot = 0
GROUP BY cohort, week HAVING week <= {weeks:UInt64}
ORDER BY cohort, week`;
  return { kind: "retention", query: { sql, params: p.all }, weeks: spec.weeks, today: localDay(ctx.nowMs, ctx.timezone) };
};
