import { invalid, onlyKeys, quote, site } from "./input.js";
import { checkDay } from "./time.js";
import type { LegacySpec, RunReportSpec } from "./spec.js";

const METRICS = ["pageviews", "visitors", "sessions"] as const;

/** The GA4 metric each first-spec metric became. */
export const LEGACY_METRICS: Readonly<Record<LegacySpec["metrics"][number], string>> = { pageviews: "screenPageViews", visitors: "activeUsers", sessions: "sessions" };

const list = <T extends string>(v: unknown, field: string, allowed: readonly T[]): T[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`"${field}" must be an array`);
  return v
    .map((x) => {
      if (typeof x !== "string" || !(allowed as readonly string[]).includes(x)) throw invalid(`unknown ${field.replace(/s$/, "")} ${quote(x)}; known: ${allowed.join(", ")}`);
      return x as T;
    })
    .filter((x, i, all) => all.indexOf(x) === i);
};

/** The first spec, `{site, from, to, metrics, dimensions}`, kept for the clients written against it. */
export const parseLegacy = (raw: Record<string, unknown>): LegacySpec => {
  onlyKeys(raw, ["site", "from", "to", "metrics", "dimensions"], "query");
  const s = site(raw["site"]);
  const day = (field: "from" | "to"): string => {
    const v = raw[field];
    if (typeof v !== "string" || v === "today" || v === "yesterday" || /daysAgo$/.test(v)) throw invalid(`"${field}" must be a real day like 2026-11-27, got ${quote(v)}`);
    checkDay(v, field);
    return v;
  };
  const from = day("from");
  const to = day("to");
  if (to < from) throw invalid(`"to" is before "from"`);
  const metrics = list(raw["metrics"] ?? [...METRICS], "metrics", METRICS);
  if (metrics.length === 0) throw invalid("ask for at least one metric");
  return { site: s, from, to, metrics, dimensions: list(raw["dimensions"], "dimensions", ["date"] as const) };
};

/** The same question in the GA4 shape; its days are UTC days, as they always were. */
export const fromLegacy = (spec: LegacySpec): RunReportSpec => ({
  kind: "report",
  site: spec.site,
  dateRanges: [{ startDate: spec.from, endDate: spec.to, name: "date_range_0" }],
  dimensions: spec.dimensions,
  metrics: spec.metrics.map((m) => LEGACY_METRICS[m]),
  dimensionFilter: undefined,
  metricFilter: undefined,
  orderBys: [],
  limit: 100_000,
  offset: 0,
  totals: false,
  keepEmptyRows: false,
});
