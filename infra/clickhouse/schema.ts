const LOW = "LowCardinality(String)";
const EVENT_DIMENSIONS = [`path String`, `source ${LOW}`, `channel ${LOW}`, `country ${LOW}`, `device ${LOW}`, `hostname ${LOW}`, `name ${LOW}`, `medium ${LOW}`, `browser ${LOW}`, `os ${LOW}`];
const SESSION_DIMENSIONS = [`landing_path String`, `source ${LOW}`, `channel ${LOW}`, `country ${LOW}`, `device ${LOW}`, `medium ${LOW}`, `browser ${LOW}`, `os ${LOW}`, `campaign String`];
const ONE_DIMENSION = [`dimension ${LOW}`, `value String`];
/** The measures of the rollups of each side, in column order: counts that add up, and the visitor bitmap. */
export const ROLLUP_MEASURES = {
  events: ["pageviews", "events", "visitor_bits"],
  sessions: ["sessions", "engaged_sessions", "pageviews", "duration_ms", "key_sessions", "visitor_bits"],
} as const;
const measureColumns = (names: readonly string[]): string[] => names.map((n) => (n === "visitor_bits" ? `${n} AggregateFunction(groupBitmap, UInt32)` : `${n} UInt64`));
const EVENT_MEASURES = measureColumns(ROLLUP_MEASURES.events);
const SESSION_MEASURES = measureColumns(ROLLUP_MEASURES.sessions);

/**
 * Rows per granule of the rollup tables: a report reads a few hundred rows of a site and dimension, and ClickHouse
 * reads (and decodes the visitor bitmaps of) whole granules, 8,192 rows by default, most of them other dimensions'.
 */
const ROLLUP_GRANULE_ROWS = 256;

/** A rollup: site, period start (`hour` or `day`) and generation, then the given columns. */
const rollupTable = (db: string, name: string, columns: readonly string[], orderBy: string, period: "hour" | "day" = "hour"): string =>
  `CREATE TABLE IF NOT EXISTS ${db}.${name} (
    site LowCardinality(String),
    ${period} DateTime('UTC'),
    gen UInt64,
    ${columns.join(",\n    ")}
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(${period})
  ORDER BY (${orderBy})
  SETTINGS index_granularity = ${ROLLUP_GRANULE_ROWS}`;

/**
 * Projection tables. Both are ReplacingMergeTree so that re-inserting a row (a redelivered
 * batch, a retried insert) replaces rather than adds; readers use FINAL. An event's row
 * carries its session's version, so a re-placed event (its session changed) replaces the old row.
 * A data folder made by an older build is brought up to these definitions by migrate.ts.
 */
export const schemaStatements = (db: string): readonly string[] => [
  `CREATE DATABASE IF NOT EXISTS ${db}`,
  `CREATE TABLE IF NOT EXISTS ${db}.events (
    site LowCardinality(String),
    event_id String,
    visitor_id String,
    session_id String,
    ts DateTime64(3, 'UTC'),
    seq UInt64,
    name LowCardinality(String),
    url String,
    hostname LowCardinality(String),
    path String,
    referrer String,
    props String,
    user_id String,
    source LowCardinality(String),
    medium LowCardinality(String),
    channel LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String),
    region String,
    city String,
    is_bot UInt8,
    received_at DateTime64(3, 'UTC'),
    version UInt64
  ) ENGINE = ReplacingMergeTree(version)
  PARTITION BY toYYYYMM(ts)
  ORDER BY (site, toDate(ts), event_id)`,
  // version = highest receive sequence among the session's events: the row written last wins, and a
  // tombstone (is_deleted = 1) written when a late event merged or moved the session hides it.
  `CREATE TABLE IF NOT EXISTS ${db}.sessions (
    site LowCardinality(String),
    session_id String,
    visitor_id String,
    start DateTime64(3, 'UTC'),
    end DateTime64(3, 'UTC'),
    pageviews UInt32,
    events UInt32,
    landing_page String,
    exit_page String,
    referrer String,
    source LowCardinality(String),
    medium LowCardinality(String),
    campaign String,
    channel LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String),
    is_bot UInt8,
    duration_ms UInt64,
    key_events UInt32,
    engaged UInt8,
    user_id String,
    version UInt64,
    is_deleted UInt8
  ) ENGINE = ReplacingMergeTree(version, is_deleted)
  ORDER BY (site, session_id)`,
  // A dense number per visitor of a site (by a 64-bit hash of its id), for the rollups' visitor bitmaps.
  `CREATE TABLE IF NOT EXISTS ${db}.visitor_numbers (
    site LowCardinality(String),
    visitor_key UInt64,
    num UInt32
  ) ENGINE = MergeTree
  ORDER BY (site, visitor_key)`,
  // The generation of each rollup hour and day that readers take (the newest here), written once its rows are in
  // every rollup table of its grain: a reader sees one refresh whole or not at all, an hour left with no rows reads
  // as empty, and finding the current generations reads these few rows rather than the rollups themselves.
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_generations (
    site LowCardinality(String),
    grain LowCardinality(String),
    period DateTime('UTC'),
    gen UInt64
  ) ENGINE = MergeTree
  ORDER BY (site, grain, period, gen)`,
  // Hourly rollups. Rows are recomputed from the deduplicated tables for every hour a flush
  // touched, as a new generation; readers take each hour's generation from rollup_generations. Materialized views
  // would see inserts rather than deduplicated rows, so they would count redeliveries twice and
  // keep a late event's old placement. Distinct visitors are kept as roaring bitmaps of dense per-site
  // visitor numbers (visitor_numbers, assigned by the refresher), so hours add up exactly and merge fast.
  // By combination of dimensions:
  rollupTable(db, "rollup_events_hourly", [...EVENT_DIMENSIONS, ...EVENT_MEASURES], "site, hour, gen, path, source, channel, country, device"),
  rollupTable(db, "rollup_sessions_hourly", [...SESSION_DIMENSIONS, ...SESSION_MEASURES], "site, hour, gen, landing_path, source, channel, country, device"),
  // Per site and hour only: one visitor bitmap per hour instead of one per combination of
  // dimensions, which is what makes distinct visitors over a month cheap to merge.
  rollupTable(db, "rollup_site_events_hourly", EVENT_MEASURES, "site, hour, gen"),
  rollupTable(db, "rollup_site_sessions_hourly", SESSION_MEASURES, "site, hour, gen"),
  // Per site, hour and one dimension (by its report name: pagePath, country, …): one visitor bitmap per value.
  rollupTable(db, "rollup_dimension_events_hourly", [...ONE_DIMENSION, ...EVENT_MEASURES], "site, dimension, hour, gen, value"),
  rollupTable(db, "rollup_dimension_sessions_hourly", [...ONE_DIMENSION, ...SESSION_MEASURES], "site, dimension, hour, gen, value"),
  // The same per UTC day, merged from the current hourly rows: a month's report by one dimension merges about
  // 30 bitmaps per value instead of 720. Made a while after the hours (see RollupRefresher), so a reader
  // reads the hours of a day whose daily generation is older than one of its hours'.
  rollupTable(db, "rollup_dimension_events_daily", [...ONE_DIMENSION, ...EVENT_MEASURES], "site, dimension, day, gen, value", "day"),
  rollupTable(db, "rollup_dimension_sessions_daily", [...ONE_DIMENSION, ...SESSION_MEASURES], "site, dimension, day, gen, value", "day"),
];
