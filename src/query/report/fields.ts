/**
 * The field catalogue: every dimension and metric a report may name, and how each table
 * computes it. Nothing else reaches SQL as an identifier: a name not found here is refused.
 *
 * Two fact sides: events (one row per event, by event time) and sessions (one row per
 * session, by session start). Each side is read raw (`events FINAL`, `sessions FINAL`) or from
 * one of its hourly rollups. A field has an expression per side and path it can be served from.
 */

export type Side = "events" | "sessions";
/**
 * The raw tables; the hourly rollups by combination of dimensions; the hourly rollups by one
 * dimension (a row per dimension and value); or per site alone (time dimensions only).
 */
export type Path = "raw" | "rollup" | "dimension-rollup" | "site-rollup";

/** Where a field is read: a side, a path, and the column holding time there. */
export interface Source {
  readonly side: Side;
  readonly path: Path;
  readonly time: string;
}

export interface Dimension {
  readonly name: string;
  /** Date and time dimensions, which every path can compute from its time column. */
  readonly time?: boolean;
  /** The SQL expression on a source, or undefined where that source cannot serve it. */
  readonly expr: (s: Source) => string | undefined;
  /** Realtime-only dimensions need the request's "now". */
  readonly realtime?: boolean;
}

const TZ = "{tz:String}";

const timeDimension = (name: string, f: (t: string) => string): Dimension => ({ name, time: true, expr: (s) => f(s.time) });

/** A column on the listed side/path pairs, e.g. "events/raw"; the rollups by one dimension hold it as `value`. */
const column = (name: string, col: string, on: readonly string[], rollupCol = col): Dimension => ({
  name,
  expr: (s) => (on.includes(`${s.side}/${s.path}`) ? (s.path === "dimension-rollup" ? "value" : s.path === "rollup" ? rollupCol : col) : undefined),
});

const ALL = ["events/raw", "events/rollup", "events/dimension-rollup", "sessions/raw", "sessions/rollup", "sessions/dimension-rollup"];
const EVENTS = ["events/raw", "events/rollup", "events/dimension-rollup"];

const pathWithQuery = (url: string): string => `concat(path(${url}), if(queryString(${url}) = '', '', concat('?', queryString(${url}))))`;

const DIMENSIONS: readonly (readonly [Dimension, ...string[]])[] = [
  [timeDimension("date", (t) => `toString(toYYYYMMDD(${t}, ${TZ}))`)],
  [timeDimension("dateHour", (t) => `formatDateTime(${t}, '%Y%m%d%H', ${TZ})`)],
  [timeDimension("hour", (t) => `formatDateTime(${t}, '%H', ${TZ})`)],
  [timeDimension("week", (t) => `toString(toYearWeek(${t}, 3, ${TZ}))`), "isoYearIsoWeek"],
  [timeDimension("month", (t) => `toString(toYYYYMM(${t}, ${TZ}))`), "yearMonth"],
  [{ name: "minutesAgo", realtime: true, expr: (s) => (s.side === "events" && s.path === "raw" ? `leftPad(toString(intDiv({now:Int64} - toUnixTimestamp64Milli(ts), 60000)), 2, '0')` : undefined) }],
  [column("pagePath", "path", EVENTS)],
  [column("landingPage", "path(landing_page)", ["sessions/raw", "sessions/rollup", "sessions/dimension-rollup"], "landing_path")],
  [column("landingPagePlusQueryString", pathWithQuery("landing_page"), ["sessions/raw"])],
  [column("exitPage", "path(exit_page)", ["sessions/raw"])],
  [column("hostName", "hostname", EVENTS), "hostname"],
  [column("eventName", "name", EVENTS)],
  [column("sessionSource", "source", ALL), "source"],
  [column("sessionMedium", "medium", ALL), "medium"],
  [column("sessionCampaignName", "campaign", ["sessions/raw", "sessions/rollup", "sessions/dimension-rollup"]), "campaign"],
  [column("sessionDefaultChannelGroup", "channel", ALL), "channel"],
  [column("pageReferrer", "referrer", ["events/raw"]), "referrer"],
  [column("country", "country", ALL)],
  [column("region", "region", ["events/raw"])],
  [column("city", "city", ["events/raw"])],
  [column("deviceCategory", "device", ALL), "device"],
  [column("browser", "browser", ALL)],
  [column("operatingSystem", "os", ALL), "os"],
];

const byName = new Map<string, Dimension>(DIMENSIONS.flatMap(([d, ...aliases]) => [d.name, ...aliases].map((n) => [n, d] as const)));

/** An event property: `param:<name>` or GA4's `customEvent:<name>`. The name is bound, never spliced. */
const PARAM = /^(?:param|customEvent):(.{1,100})$/s;

export const dimensionNames = (): string[] => [...byName.keys(), "param:<name>", "customEvent:<name>"];

/**
 * The dimension a client's name stands for. `bind` turns the property name of a
 * `param:` dimension into a bound parameter reference.
 */
export const findDimension = (name: string, bind: (value: string) => string): Dimension | undefined => {
  const known = byName.get(name);
  if (known) return known;
  const key = PARAM.exec(name)?.[1];
  if (key === undefined) return undefined;
  const k = bind(key);
  return {
    name,
    // Props is the event's flat JSON object: strings as they are, numbers and booleans as JSON writes them.
    expr: (s) =>
      s.side === "events" && s.path === "raw"
        ? `multiIf(NOT JSONHas(props, ${k}), '(not set)', JSONType(props, ${k}) = 'String', JSONExtractString(props, ${k}), JSONExtractRaw(props, ${k}))`
        : undefined,
  };
};

/** Aggregates a side computes; metrics are made from them. */
export type Aggregate = "e_views" | "e_events" | "e_key" | "e_users" | "s_sessions" | "s_engaged" | "s_views" | "s_duration" | "s_key" | "s_users" | "s_new";

const FIRST_SESSIONS = (db: string): string =>
  `(visitor_id, start) IN (SELECT visitor_id, min(start) FROM ${db}.sessions FINAL WHERE site = {site:String} AND is_bot = 0 GROUP BY visitor_id)`;

/** Each aggregate on its side, raw and rollup; undefined where the rollup cannot serve it. */
export const aggregateSql = (a: Aggregate, path: Path, db: string): string | undefined => {
  const raw = path === "raw";
  // Key events are counted by event name, which only the rollups by combination keep with every other dimension.
  if (a === "e_key" && (path === "site-rollup" || path === "dimension-rollup")) return undefined;
  switch (a) {
    case "e_views":
      return raw ? "countIf(name = 'pageview')" : "sum(pageviews)";
    case "e_events":
      return raw ? "count()" : "sum(events)";
    case "e_key":
      return raw ? "countIf(name IN {keyEvents:Array(String)})" : "sumIf(events, name IN {keyEvents:Array(String)})";
    case "e_users":
    case "s_users":
      return raw ? "uniqExact(visitor_id)" : "groupBitmapMerge(visitor_bits)";
    case "s_sessions":
      return raw ? "count()" : "sum(sessions)";
    case "s_engaged":
      return raw ? "countIf(engaged = 1)" : "sum(engaged_sessions)";
    case "s_views":
      return "sum(pageviews)";
    case "s_duration":
      return "sum(duration_ms)";
    case "s_key":
      return raw ? "countIf(key_events > 0)" : "sum(key_sessions)";
    case "s_new":
      // A visitor is new in the session that is its first ever; a late earlier session moves that, so only raw tables know.
      return raw ? `countIf(${FIRST_SESSIONS(db)})` : undefined;
  }
};

export interface Metric {
  readonly name: string;
  /** The side it needs, or "either" for distinct visitors, which both sides count. */
  readonly side: Side | "either";
  readonly kind: "integer" | "float";
  readonly uses: readonly Aggregate[];
  /** Over the aggregates of the joined sides; `users` is whichever side counts visitors. */
  readonly sql: (users: "e_users" | "s_users") => string;
}

const ratio = (num: string, den: string, scale = ""): string => `if(${den} = 0, 0, ${num}${scale} / ${den})`;

const METRICS: readonly (readonly [Metric, ...string[]])[] = [
  [{ name: "activeUsers", side: "either", kind: "integer", uses: [], sql: (u) => u }, "totalUsers", "visitors"],
  [{ name: "newUsers", side: "sessions", kind: "integer", uses: ["s_new"], sql: () => "s_new" }],
  [{ name: "sessions", side: "sessions", kind: "integer", uses: ["s_sessions"], sql: () => "s_sessions" }],
  [{ name: "engagedSessions", side: "sessions", kind: "integer", uses: ["s_engaged"], sql: () => "s_engaged" }],
  [{ name: "engagementRate", side: "sessions", kind: "float", uses: ["s_engaged", "s_sessions"], sql: () => ratio("s_engaged", "s_sessions") }],
  [{ name: "bounceRate", side: "sessions", kind: "float", uses: ["s_engaged", "s_sessions"], sql: () => `if(s_sessions = 0, 0, 1 - s_engaged / s_sessions)` }],
  [{ name: "screenPageViews", side: "events", kind: "integer", uses: ["e_views"], sql: () => "e_views" }, "pageviews"],
  [{ name: "screenPageViewsPerSession", side: "sessions", kind: "float", uses: ["s_views", "s_sessions"], sql: () => ratio("s_views", "s_sessions") }, "viewsPerSession"],
  [{ name: "averageSessionDuration", side: "sessions", kind: "float", uses: ["s_duration", "s_sessions"], sql: () => ratio("s_duration", "s_sessions", " / 1000") }],
  [{ name: "eventCount", side: "events", kind: "integer", uses: ["e_events"], sql: () => "e_events" }],
  [{ name: "keyEvents", side: "events", kind: "integer", uses: ["e_key"], sql: () => "e_key" }, "conversions"],
  [{ name: "sessionKeyEventRate", side: "sessions", kind: "float", uses: ["s_key", "s_sessions"], sql: () => ratio("s_key", "s_sessions") }, "conversionRate"],
];

const metricsByName = new Map<string, Metric>(METRICS.flatMap(([m, ...aliases]) => [m.name, ...aliases].map((n) => [n, m] as const)));

export const findMetric = (name: string): Metric | undefined => metricsByName.get(name);
export const metricNames = (): string[] => [...metricsByName.keys()];

/** Metrics the realtime report serves: those of events, over the last minutes. */
export const REALTIME_METRICS: ReadonlySet<string> = new Set(["activeUsers", "screenPageViews", "eventCount", "keyEvents"]);
