import { aggregateSql, dimensionNames, findDimension, findMetric, metricNames, REALTIME_METRICS, type Aggregate, type Dimension, type Metric, type Path, type Side, type Source } from "./fields.js";
import { filterFields } from "./parse-filter.js";
import { filterSql } from "./filter-sql.js";
import { invalid, quote } from "./input.js";
import { Params } from "./params.js";
import { ROLLUP_MEASURES } from "../../../infra/clickhouse/schema.js";
import { chTime, checkZone, interval, onWholeHours, wholeUtcDays, type Interval } from "./time.js";
import type { BoundQuery, ReportContext } from "./context.js";
import type { OrderBy, RealtimeSpec, RunReportSpec } from "./spec.js";

export interface MetricHeader {
  readonly name: string;
  readonly type: "TYPE_INTEGER" | "TYPE_FLOAT" | "TYPE_SECONDS";
}

/** A runReport or realtime report as SQL: the page of rows, the row count, the totals. */
export interface CompiledTable {
  readonly kind: "table";
  readonly rows: BoundQuery;
  /** Rows before limit and offset; needed only when the page comes back empty. */
  readonly count: BoundQuery;
  readonly totals: BoundQuery | undefined;
  /** Without dimensions the rows are the totals: the names of the date ranges, to read them from the rows instead. */
  readonly totalsFromRows: readonly string[] | undefined;
  readonly dimensionHeaders: readonly string[];
  readonly metricHeaders: readonly MetricHeader[];
  /** Whether the raw tables or the rollups answer. */
  readonly path: Path;
  /** Result columns: `d0…` hold the dimensions, `m0…` the metrics, `dr` the date range. */
  readonly comparing: boolean;
}

const TABLES: Record<Side, Record<Path, string>> = {
  events: { raw: "events", rollup: "rollup_events_hourly", "dimension-rollup": "rollup_dimension_events_hourly", "site-rollup": "rollup_site_events_hourly" },
  sessions: { raw: "sessions", rollup: "rollup_sessions_hourly", "dimension-rollup": "rollup_dimension_sessions_hourly", "site-rollup": "rollup_site_sessions_hourly" },
};

const timeColumn = (side: Side, path: Path): string => (path !== "raw" ? "hour" : side === "events" ? "ts" : "start");

const header = (m: Metric, name: string): MetricHeader => ({ name, type: m.name === "averageSessionDuration" ? "TYPE_SECONDS" : m.kind === "integer" ? "TYPE_INTEGER" : "TYPE_FLOAT" });

const unknownDimension = (name: string): never => {
  throw invalid(`unknown dimension ${quote(name)}; known: ${dimensionNames().join(", ")}`);
};

/**
 * Compiles runReport and runRealtimeReport. Each side (events, sessions) is aggregated per date
 * range and dimension key, the sides are joined on that key, and metrics are computed over the join.
 */
export const compileTable = (spec: RunReportSpec | RealtimeSpec, ctx: ReportContext): CompiledTable => {
  checkZone(ctx.timezone);
  const realtime = spec.kind === "realtime";
  const p = new Params();
  p.set("site", spec.site);
  p.set("tz", ctx.timezone);
  p.set("keyEvents", ctx.keyEvents);
  p.set("now", ctx.nowMs);
  const bindKey = (v: string): string => p.bind("String", v);

  const dims: Dimension[] = spec.dimensions.map((n) => {
    const d = findDimension(n, bindKey) ?? unknownDimension(n);
    if (d.realtime && !realtime) throw invalid(`dimension ${quote(n)} exists only in realtime reports`);
    return d;
  });
  const metrics: Metric[] = spec.metrics.map((n) => {
    const m = findMetric(n);
    if (!m) throw invalid(`unknown metric ${quote(n)}; known: ${metricNames().join(", ")}`);
    if (realtime && !REALTIME_METRICS.has(m.name)) throw invalid(`metric ${quote(n)} is not available in realtime reports; available: ${[...REALTIME_METRICS].join(", ")}`);
    return m;
  });
  const filterDims = new Map<string, Dimension>();
  for (const n of filterFields(spec.dimensionFilter)) {
    const d = findDimension(n, bindKey) ?? unknownDimension(n);
    if (d.realtime && !realtime) throw invalid(`dimension ${quote(n)} exists only in realtime reports`);
    filterDims.set(n, d);
  }
  for (const n of filterFields(spec.metricFilter)) if (!spec.metrics.includes(n)) throw invalid(`the metric filter names ${quote(n)}, which is not among the requested metrics`);

  // Distinct visitors come from events (visitors with an event in the range) unless a dimension exists only on sessions.
  const allDims = [...dims.map((d, i) => [spec.dimensions[i] as string, d] as const), ...filterDims];
  const onSide = (side: Side): boolean => allDims.every(([, d]) => d.expr({ side, path: "raw", time: timeColumn(side, "raw") }) !== undefined);
  const usersSide: Side = realtime || onSide("events") ? "events" : "sessions";
  const sides = new Set<Side>(metrics.map((m) => (m.side === "either" ? usersSide : m.side)));
  for (const side of sides) {
    for (const [name, d] of allDims) {
      if (d.expr({ side, path: "raw", time: timeColumn(side, "raw") }) === undefined) {
        const other = metrics.find((m) => m.side === side) ?? metrics[0];
        throw invalid(`dimension ${quote(name)} cannot be combined with metric ${quote(other?.name)}: one counts ${side === "events" ? "sessions" : "events"}, the other ${side}`);
      }
    }
  }
  const users: Aggregate = usersSide === "events" ? "e_users" : "s_users";
  // Stands in for distinct visitors where only whether a row has any matters: every row of a side
  // counts at least one event or session, and has a visitor exactly when it has one of those.
  const presence: Aggregate = usersSide === "events" ? "e_events" : "s_sessions";
  /** With `withoutUsers`, the users side computes `presence` instead of distinct visitors. */
  const aggregates = (side: Side, withoutUsers = false): Aggregate[] => {
    const uses = new Set<Aggregate>(metrics.flatMap((m) => (m.side === "either" ? (side === usersSide ? [withoutUsers ? presence : users] : []) : m.side === side ? m.uses : [])));
    return [...uses];
  };

  const intervals: Interval[] = realtime
    ? spec.minuteRanges.map((r) => ({ name: r.name, fromMs: ctx.nowMs - (r.startMinutesAgo + 1) * 60_000 + 1, toMs: ctx.nowMs - r.endMinutesAgo * 60_000 + 1 }))
    : spec.dateRanges.map((r, i) => interval(r, ctx.timezone, ctx.nowMs, `dateRanges[${i}]`));

  const serves = (rollup: Path) => (side: Side): boolean =>
    allDims.every(([, d]) => d.expr({ side, path: rollup, time: "hour" }) !== undefined) && aggregates(side).every((a) => aggregateSql(a, rollup, ctx.database) !== undefined);
  const wholeHours = !realtime && intervals.every((i) => onWholeHours(i, ctx.timezone));
  // The rollups by one dimension serve reports whose fields besides time are that one dimension.
  const others = [...new Set(allDims.filter(([, d]) => !d.time).map(([, d]) => d.name))];
  const usable = (r: Path): boolean => r !== "dimension-rollup" || others.length === 1;
  // The narrowest table that holds every field: per site, by one dimension, by combination, else raw.
  const rollup = (["site-rollup", "dimension-rollup", "rollup"] as const).find((r) => wholeHours && usable(r) && [...sides].every(serves(r)));
  if (rollup === "dimension-rollup") p.set("dimension", others[0] as string);
  if (ctx.source === "rollup" && !rollup) throw invalid("this report cannot be answered from the hourly rollups");
  const path: Path = ctx.source === "raw" ? "raw" : (rollup ?? "raw");

  // Top rows by a cheap metric: which rows make the page does not depend on distinct visitors (see
  // `presence`), so they are counted only for those rows. Merging visitor sets is what costs, and a
  // page of 10 among hundreds of pages merges a fraction of them. Not on the raw tables, where the
  // page itself costs a full scan.
  const usersNamed = new Set(metrics.filter((m) => m.side === "either").map((m) => m.name));
  const pruned =
    path !== "raw" &&
    dims.length > 0 &&
    usersNamed.size > 0 &&
    spec.orderBys.some((o) => o.kind === "metric") &&
    spec.orderBys.every((o) => o.kind !== "metric" || !usersNamed.has(findMetric(o.name)?.name ?? "")) &&
    filterFields(spec.metricFilter).every((n) => !usersNamed.has(findMetric(n)?.name ?? ""));

  const db = ctx.database;
  // Reports by one dimension and no time dimension read whole UTC days from the daily rows.
  const daily = path === "dimension-rollup" && allDims.every(([, d]) => !d.time);
  const ranges = intervals.map((i, k) => {
    const days = daily ? wholeUtcDays(i) : undefined;
    return {
      index: k,
      name: p.bind("String", i.name),
      from: p.bind("String", chTime(i.fromMs)),
      to: p.bind("String", chTime(i.toMs)),
      days: days && { from: p.bind("String", chTime(days.fromMs)), to: p.bind("String", chTime(days.toMs)) },
    };
  });

  /** `only` replaces the side's aggregates; `keysIn` keeps the rows whose dimension values that query (of `d0…`) returns. */
  const sideQuery = (side: Side, withDims: boolean, only?: readonly Aggregate[], keysIn?: string): string => {
    const source: Source = { side, path, time: timeColumn(side, path) };
    const expr = (d: Dimension): string => d.expr(source) as string;
    const keys = withDims ? dims.map((d, i) => `${expr(d)} AS d${i}`) : [];
    const aggs = (only ?? aggregates(side, pruned && withDims)).map((a) => `${aggregateSql(a, path, db) as string} AS ${a}`);
    const conds = [
      ...(spec.dimensionFilter ? [filterSql(spec.dimensionFilter, (n) => ({ sql: expr(filterDims.get(n) as Dimension), numeric: false }), p)] : []),
      ...(keysIn !== undefined ? [`(${dims.map(expr).join(", ")}) IN (SELECT ${dims.map((_, i) => `d${i}`).join(", ")} FROM (${keysIn}))`] : []),
    ];
    const where = conds.map((c) => ` AND ${c}`).join("");
    const table = `${db}.${TABLES[side][path]}`;
    const group = withDims && dims.length > 0 ? ` GROUP BY ${dims.map((_, i) => `d${i}`).join(", ")}` : "";
    return ranges
      .map((r) => {
        if (r.days) return `SELECT toUInt8(${r.index}) AS ri, ${r.name} AS dr${keys.map((k) => `, ${k}`).join("")}, ${aggs.join(", ")} FROM (${dayRows(side, r, r.days)}) AS rows WHERE 1 = 1${where}${group}`;
        const t = source.time;
        const bounds =
          path === "raw"
            ? `${t} >= toDateTime64(${r.from}, 3, 'UTC') AND ${t} < toDateTime64(${r.to}, 3, 'UTC')`
            : `${t} >= toDateTime(${r.from}, 'UTC') AND ${t} < toDateTime(${r.to}, 'UTC')`;
        // Rollups keep several generations of an hour for a moment; the one rollup_generations records last counts.
        const base =
          path === "raw"
            ? `${table} FINAL WHERE site = {site:String} AND is_bot = 0`
            : `${table} WHERE site = {site:String}${path === "dimension-rollup" ? " AND dimension = {dimension:String}" : ""} AND (hour, gen) IN (${generations("hour", r.from, r.to)})`;
        return `SELECT toUInt8(${r.index}) AS ri, ${r.name} AS dr${keys.map((k) => `, ${k}`).join("")}, ${aggs.join(", ")} FROM ${base} AND ${bounds}${where}${group}`;
      })
      .join("\nUNION ALL\n");
  };

  /** The current generation of each hour or day from `from` to `to`, as (period, g). */
  const generations = (grain: "hour" | "day", from: string, to: string): string =>
    `SELECT period, max(gen) AS g FROM ${db}.rollup_generations WHERE site = {site:String} AND grain = '${grain}' AND period >= toDateTime(${from}, 'UTC') AND period < toDateTime(${to}, 'UTC') GROUP BY period`;

  /**
   * The rows by one dimension of a range with whole UTC days: the daily rows of the days made since their hours
   * last changed, the hourly rows of the other hours. Daily rows are made a while after the hours (see
   * RollupRefresher), and until then the day's hours answer.
   */
  const dayRows = (side: Side, r: { from: string; to: string }, days: { from: string; to: string }): string => {
    const cols = ["value", ...ROLLUP_MEASURES[side]].join(", ");
    // In one pass over the generations: a day's newest daily generation, kept if newer than any of its hours'.
    const current = `SELECT toStartOfDay(period) AS day, maxIf(gen, grain = 'day') AS g FROM ${db}.rollup_generations
      WHERE site = {site:String} AND period >= toDateTime(${days.from}, 'UTC') AND period < toDateTime(${days.to}, 'UTC')
      GROUP BY day HAVING g > maxIf(gen, grain = 'hour')`;
    return `SELECT ${cols} FROM ${db}.rollup_dimension_${side}_daily WHERE site = {site:String} AND dimension = {dimension:String} AND (day, gen) IN (SELECT day, g FROM (${current}))
      UNION ALL
      SELECT ${cols} FROM ${db}.${TABLES[side]["dimension-rollup"]} WHERE site = {site:String} AND dimension = {dimension:String}
        AND (hour, gen) IN (SELECT period, g FROM (${generations("hour", r.from, r.to)}) WHERE toStartOfDay(period) NOT IN (SELECT day FROM (${current})))`;
  };

  const core = (withDims: boolean): string => {
    const keys = ["ri", "dr", ...(withDims ? dims.map((_, i) => `d${i}`) : [])];
    const [first, second] = [...sides];
    const from =
      second === undefined
        ? `(${sideQuery(first as Side, withDims)}) AS x`
        : `(${sideQuery(first as Side, withDims)}) AS x FULL OUTER JOIN (${sideQuery(second, withDims)}) AS y USING (${keys.join(", ")})`;
    const sql = (m: Metric): string => (pruned && withDims && m.side === "either" ? presence : m.sql(users));
    return `SELECT ${keys.join(", ")}, ${metrics.map((m, i) => `${sql(m)} AS m${i}`).join(", ")} FROM ${from}`;
  };

  const conditions: string[] = [];
  if (!spec.keepEmptyRows) conditions.push(`NOT (${metrics.map((_, i) => `m${i} = 0`).join(" AND ")})`);
  if (spec.metricFilter) conditions.push(filterSql(spec.metricFilter, (n) => ({ sql: `m${spec.metrics.indexOf(n)}`, numeric: true }), p));
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";

  const order = spec.orderBys.map((o) => orderTerm(o, spec));
  const tieBreak = ["ri", ...dims.map((_, i) => `d${i}`)];
  p.set("limit", spec.limit);
  p.set("offset", spec.offset);
  // Visitor sets from the rollups are merged in one thread: with sets of keys, two threads each built a
  // set of most of the visitors and then merged them, about twice the CPU time and never faster; with
  // the bitmaps, two threads were no faster either on the bench's month.
  const mergesVisitors = path !== "raw" && [...sides].some((side) => aggregates(side).includes(users));
  const settings = ` SETTINGS join_use_nulls = 0${mergesVisitors ? ", max_threads = 1" : ""}`;
  const totalsInRows = spec.totals && dims.length === 0 && !spec.metricFilter && spec.offset === 0 && spec.limit >= intervals.length;
  const comparing = intervals.length > 1;
  const orderSql = [...order, ...tieBreak].join(", ");
  const page = `SELECT *, count() OVER () AS __rows FROM (${core(true)})${where} ORDER BY ${orderSql} LIMIT {limit:UInt64} OFFSET {offset:UInt64}`;
  // Pruned: distinct visitors only for the rows of the page, joined on their keys.
  const keyCols = ["ri", "dr", ...dims.map((_, i) => `d${i}`)];
  const withUsers = (): string => `SELECT ${keyCols.map((k) => `p.${k} AS ${k}`).join(", ")}, ${metrics.map((m, i) => (m.side === "either" ? `u.${users}` : `p.m${i}`) + ` AS m${i}`).join(", ")}, p.__rows AS __rows
    FROM (${page}) AS p LEFT JOIN (${sideQuery(usersSide, true, [users], page)}) AS u USING (${keyCols.join(", ")}) ORDER BY ${orderSql}`;
  return {
    kind: "table",
    rows: { sql: `${pruned ? withUsers() : page}${settings}`, params: p.all },
    count: { sql: `SELECT count() AS n FROM (${core(true)})${where}${settings}`, params: p.all },
    totals: spec.totals && !totalsInRows ? { sql: `SELECT * FROM (${core(false)}) ORDER BY ri${settings}`, params: p.all } : undefined,
    totalsFromRows: totalsInRows ? intervals.map((i) => i.name) : undefined,
    dimensionHeaders: [...spec.dimensions, ...(comparing ? ["dateRange"] : [])],
    metricHeaders: metrics.map((m, i) => header(m, spec.metrics[i] as string)),
    path,
    comparing,
  };
};

const orderTerm = (o: OrderBy, spec: RunReportSpec | RealtimeSpec): string => {
  const dir = o.desc ? " DESC" : " ASC";
  if (o.kind === "metric") {
    const i = spec.metrics.indexOf(o.name);
    if (i < 0) throw invalid(`"orderBys" names the metric ${quote(o.name)}, which is not among the requested metrics`);
    return `m${i}${dir}`;
  }
  if (o.name === "dateRange") return `ri${dir}`;
  const col = `d${spec.dimensions.indexOf(o.name)}`;
  if (col === "d-1") throw invalid(`"orderBys" names the dimension ${quote(o.name)}, which is not among the requested dimensions`);
  if (o.orderType === "NUMERIC") return `toFloat64OrZero(${col})${dir}`;
  if (o.orderType === "CASE_INSENSITIVE_ALPHANUMERIC") return `lowerUTF8(${col})${dir}`;
  return `${col}${dir}`;
};
