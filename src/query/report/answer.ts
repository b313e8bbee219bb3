import type { CompiledFunnel } from "./compile-funnel.js";
import type { CompiledRetention } from "./compile-retention.js";
import type { CompiledTable, MetricHeader } from "./compile-table.js";
import { LEGACY_METRICS } from "./legacy.js";
import type { LegacySpec } from "./spec.js";
import type { BoundQuery } from "./context.js";

export type Row = Record<string, string | number>;

/** A report's answer without timing: rows keyed by header name, as /ws streams them and HTTP returns them. */
export interface ReportTable {
  readonly columns: readonly string[];
  readonly dimensionHeaders: readonly string[];
  readonly metricHeaders: readonly MetricHeader[];
  readonly rows: readonly Row[];
  /** Rows before limit and offset. */
  readonly rowCount: number;
  /** One row per date range, when metricAggregations asked for TOTAL. */
  readonly totals?: readonly Row[];
}

/** Runs a bound query; the service's store, or anything a test hands in. */
export type Fetch = (q: BoundQuery) => Promise<readonly Record<string, unknown>[]>;

const metricValues = (c: CompiledTable, r: Record<string, unknown>): Row => {
  const out: Row = {};
  c.metricHeaders.forEach((h, i) => (out[h.name] = Number(r[`m${i}`] ?? 0)));
  return out;
};

const columnsOf = (dimensionHeaders: readonly string[], metricHeaders: readonly MetricHeader[]): string[] => [...dimensionHeaders, ...metricHeaders.map((m) => m.name)];

export const tableAnswer = async (c: CompiledTable, fetch: Fetch): Promise<ReportTable> => {
  const dims = c.comparing ? c.dimensionHeaders.slice(0, -1) : c.dimensionHeaders;
  const raw = await fetch(c.rows);
  const rows = raw.map((r) => {
    const out: Row = {};
    dims.forEach((h, i) => (out[h] = String(r[`d${i}`])));
    if (c.comparing) out["dateRange"] = String(r["dr"]);
    return { ...out, ...metricValues(c, r) };
  });
  // Past the last row the window count is not there to read; count separately then.
  const rowCount = raw.length > 0 ? Number(raw[0]?.["__rows"]) : Number((await fetch(c.count))[0]?.["n"] ?? 0);
  const totalsOf = (r: Record<string, unknown>): Row => ({ ...(c.comparing ? { dateRange: String(r["dr"]) } : {}), ...metricValues(c, r) });
  // A range whose metrics are all zero has no row; its totals are zeros.
  const fromRows = c.totalsFromRows?.map((name) => totalsOf(raw.find((r) => r["dr"] === name) ?? { dr: name }));
  const totals = c.totals ? (await fetch(c.totals)).map(totalsOf) : fromRows;
  return { columns: columnsOf(c.dimensionHeaders, c.metricHeaders), dimensionHeaders: c.dimensionHeaders, metricHeaders: c.metricHeaders, rows, rowCount, ...(totals ? { totals } : {}) };
};

/** The first spec's answer: its own column names, days as YYYY-MM-DD. */
export const legacyAnswer = (spec: LegacySpec, t: ReportTable): ReportTable => {
  const rows = t.rows.map((r) => {
    const out: Row = {};
    if (spec.dimensions.includes("date")) out["date"] = String(r["date"]).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");
    for (const m of spec.metrics) out[m] = r[LEGACY_METRICS[m]] ?? 0;
    return out;
  });
  const metricHeaders = spec.metrics.map((m): MetricHeader => ({ name: m, type: "TYPE_INTEGER" }));
  return { columns: columnsOf(spec.dimensions, metricHeaders), dimensionHeaders: spec.dimensions, metricHeaders, rows, rowCount: t.rowCount };
};


export const funnelAnswer = async (c: CompiledFunnel, fetch: Fetch): Promise<ReportTable> => {
  const exactly = new Map((await fetch(c.query)).map((r) => [Number(r["level"]), Number(r["n"])]));
  const reached = c.steps.map((_, i) => [...exactly].filter(([level]) => level >= i + 1).reduce((a, [, n]) => a + n, 0));
  const count = c.scope === "visitor" ? "activeUsers" : "sessions";
  const first = reached[0] ?? 0;
  const rows = c.steps.map((name, i): Row => {
    const here = reached[i] ?? 0;
    const next = i + 1 < reached.length ? (reached[i + 1] ?? 0) : here;
    return {
      funnelStepName: `${i + 1}. ${name}`,
      [count]: here,
      funnelStepCompletionRate: first === 0 ? 0 : here / first,
      funnelStepAbandonments: here - next,
      funnelStepAbandonmentRate: here === 0 ? 0 : (here - next) / here,
    };
  });
  const metricHeaders: MetricHeader[] = [
    { name: count, type: "TYPE_INTEGER" },
    { name: "funnelStepCompletionRate", type: "TYPE_FLOAT" },
    { name: "funnelStepAbandonments", type: "TYPE_INTEGER" },
    { name: "funnelStepAbandonmentRate", type: "TYPE_FLOAT" },
  ];
  return { columns: columnsOf(["funnelStepName"], metricHeaders), dimensionHeaders: ["funnelStepName"], metricHeaders, rows, rowCount: rows.length };
};

const DAY_MS = 86_400_000;

export const retentionAnswer = async (c: CompiledRetention, fetch: Fetch): Promise<ReportTable> => {
  const byCohort = new Map<string, Map<number, number>>();
  for (const r of await fetch(c.query)) {
    const cohort = String(r["cohort"]);
    const weeks = byCohort.get(cohort) ?? new Map<number, number>();
    weeks.set(Number(r["week"]), Number(r["users"]));
    byCohort.set(cohort, weeks);
  }
  const rows: Row[] = [];
  for (const [cohort, weeks] of [...byCohort].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const size = weeks.get(0) ?? 0;
    // Weeks that have not begun yet are left out rather than shown as nobody returning.
    const begun = Math.floor((Date.parse(c.today) - Date.parse(cohort)) / (7 * DAY_MS));
    for (let n = 0; n <= Math.min(c.weeks, begun); n++) {
      const users = weeks.get(n) ?? 0;
      rows.push({ cohort, week: String(n), cohortUsers: size, activeUsers: users, retentionRate: size === 0 ? 0 : users / size });
    }
  }
  const metricHeaders: MetricHeader[] = [
    { name: "cohortUsers", type: "TYPE_INTEGER" },
    { name: "activeUsers", type: "TYPE_INTEGER" },
    { name: "retentionRate", type: "TYPE_FLOAT" },
  ];
  return { columns: columnsOf(["cohort", "week"], metricHeaders), dimensionHeaders: ["cohort", "week"], metricHeaders, rows, rowCount: rows.length };
};
