const LOW = "LowCardinality(String)";
const EVENT_DIMENSIONS = [`path String`, `source ${LOW}`, `channel ${LOW}`, `country ${LOW}`, `device ${LOW}`, `hostname ${LOW}`, `name ${LOW}`, `medium ${LOW}`, `browser ${LOW}`, `os ${LOW}`];
const SESSION_DIMENSIONS = [`landing_path String`, `source ${LOW}`, `channel ${LOW}`, `country ${LOW}`, `device ${LOW}`, `medium ${LOW}`, `browser ${LOW}`, `os ${LOW}`, `campaign String`];
const ONE_DIMENSION = [`dimension ${LOW}`, `value String`];
const VISITORS = "visitor_bits AggregateFunction(groupBitmap, UInt32)";
const EVENT_MEASURES = ["pageviews UInt64", "events UInt64", VISITORS];
const SESSION_MEASURES = ["sessions UInt64", "engaged_sessions UInt64", "pageviews UInt64", "duration_ms UInt64", "key_sessions UInt64", VISITORS];

/** An hourly rollup: site, hour and generation, then the given columns. */
const rollupTable = (db: string, name: string, columns: readonly string[], orderBy: string): string =>
  `CREATE TABLE IF NOT EXISTS ${db}.${name} (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    ${columns.join(",\n    ")}
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (${orderBy})`;

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
  // Hourly rollups. Rows are recomputed from the deduplicated tables for every hour a flush
  // touched, as a new generation; readers take each hour's newest generation. Materialized views
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
];
