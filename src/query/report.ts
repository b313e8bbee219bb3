import { InvalidInput } from "../core/errors.js";

export const METRICS = ["pageviews", "visitors", "sessions"] as const;
export const DIMENSIONS = ["date"] as const;
export type Metric = (typeof METRICS)[number];
export type Dimension = (typeof DIMENSIONS)[number];

/** A report request: one site, an inclusive UTC date range, metrics, optional split by day. */
export interface ReportSpec {
  readonly site: string;
  readonly from: string;
  readonly to: string;
  readonly metrics: readonly Metric[];
  readonly dimensions: readonly Dimension[];
}

export interface CompiledQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const stringList = <T extends string>(v: unknown, field: string, allowed: readonly T[]): T[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new InvalidInput("invalid_query", `"${field}" must be an array`);
  return v.map((x) => {
    if (typeof x !== "string" || !(allowed as readonly string[]).includes(x))
      throw new InvalidInput("invalid_query", `unknown ${field.replace(/s$/, "")} ${JSON.stringify(x)}; known: ${allowed.join(", ")}`);
    return x as T;
  }).filter((x, i, all) => all.indexOf(x) === i);
};

const date = (v: unknown, field: string): string => {
  // Date.parse rolls 2026-02-30 over to March; a real day survives the round trip unchanged.
  const real = typeof v === "string" && DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
  if (!real) throw new InvalidInput("invalid_query", `"${field}" must be a real day like 2026-11-27, got ${JSON.stringify(v)}`);
  return v as string;
};

const FIELDS = new Set(["site", "from", "to", "metrics", "dimensions"]);

/** Validates a report request coming from a client. */
export const parseReportSpec = (raw: unknown): ReportSpec => {
  if (!isObject(raw)) throw new InvalidInput("invalid_query", "the query must be an object");
  const unknown = Object.keys(raw).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw new InvalidInput("invalid_query", `unknown query field ${JSON.stringify(unknown[0])}; known: ${[...FIELDS].join(", ")}`);
  const site = raw["site"];
  if (typeof site !== "string" || site === "") throw new InvalidInput("invalid_query", `"site" is required`);
  const from = date(raw["from"], "from");
  const to = date(raw["to"], "to");
  if (to < from) throw new InvalidInput("invalid_query", `"to" is before "from"`);
  const metrics = stringList(raw["metrics"] ?? [...METRICS], "metrics", METRICS);
  if (metrics.length === 0) throw new InvalidInput("invalid_query", "ask for at least one metric");
  return { site, from, to, metrics, dimensions: stringList(raw["dimensions"], "dimensions", DIMENSIONS) };
};

/**
 * Compiles a report to SQL. Field names come only from the whitelists above and every
 * value is a bound parameter, so nothing a client sends is spliced into the SQL text.
 */
export const compileReport = (spec: ReportSpec, db: string): CompiledQuery => {
  const byDate = spec.dimensions.includes("date");
  const key = (col: string): string => (byDate ? `toString(toDate(${col}))` : `'total'`);
  const range = (col: string): string =>
    `site = {site:String} AND is_bot = 0 AND ${col} >= toDateTime64({from:String}, 3, 'UTC') AND ${col} < toDateTime64({to:String}, 3, 'UTC') + INTERVAL 1 DAY`;
  const sql = `
SELECT e.k AS k, e.pageviews AS pageviews, e.visitors AS visitors, s.sessions AS sessions
FROM (
  SELECT ${key("ts")} AS k, countIf(name = 'pageview') AS pageviews, uniqExact(visitor_id) AS visitors
  FROM ${db}.events FINAL WHERE ${range("ts")} GROUP BY k
) AS e
LEFT JOIN (
  SELECT ${key("start")} AS k, count() AS sessions
  FROM ${db}.sessions FINAL WHERE ${range("start")} GROUP BY k
) AS s ON e.k = s.k
ORDER BY k`;
  return {
    sql,
    params: { site: spec.site, from: spec.from, to: spec.to },
    columns: [...(byDate ? ["date"] : []), ...spec.metrics],
  };
};

/** Shapes a raw result row into the columns asked for; 64-bit counts arrive as strings. */
export const shapeRow = (spec: ReportSpec, row: Readonly<Record<string, unknown>>): Record<string, string | number> => {
  const out: Record<string, string | number> = {};
  if (spec.dimensions.includes("date")) out["date"] = String(row["k"]);
  for (const m of spec.metrics) out[m] = Number(row[m] ?? 0);
  return out;
};
