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
  // Hourly rollups. Rows are recomputed from the deduplicated tables for every hour a flush
  // touched, as a new generation; readers take each hour's newest generation. Materialized views
  // would see inserts rather than deduplicated rows, so they would count redeliveries twice and
  // keep a late event's old placement. Distinct visitors are kept as roaring bitmaps of dense per-site
  // visitor numbers (visitor_numbers, assigned by the refresher), so hours add up exactly and merge fast.
  // A dense number per visitor of a site (by a 64-bit hash of its id), for the rollups' visitor bitmaps.
  `CREATE TABLE IF NOT EXISTS ${db}.visitor_numbers (
    site LowCardinality(String),
    visitor_key UInt64,
    num UInt32
  ) ENGINE = MergeTree
  ORDER BY (site, visitor_key)`,
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_events_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    path String,
    source LowCardinality(String),
    channel LowCardinality(String),
    country LowCardinality(String),
    device LowCardinality(String),
    pageviews UInt64,
    events UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32),
    hostname LowCardinality(String),
    name LowCardinality(String),
    medium LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, hour, gen, path, source, channel, country, device)`,
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_sessions_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    landing_path String,
    source LowCardinality(String),
    channel LowCardinality(String),
    country LowCardinality(String),
    device LowCardinality(String),
    sessions UInt64,
    engaged_sessions UInt64,
    pageviews UInt64,
    duration_ms UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32),
    medium LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    campaign String,
    key_sessions UInt64
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, hour, gen, landing_path, source, channel, country, device)`,
  // Per site and hour only: one visitor state per hour instead of one per combination of
  // dimensions, which is what makes distinct visitors over a month cheap to merge.
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_site_events_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    pageviews UInt64,
    events UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, hour, gen)`,
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_site_sessions_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    sessions UInt64,
    engaged_sessions UInt64,
    pageviews UInt64,
    duration_ms UInt64,
    key_sessions UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, hour, gen)`,
  // Per site, hour and one dimension (by its report name: pagePath, country, …): one visitor state per value.
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_dimension_events_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    dimension LowCardinality(String),
    value String,
    pageviews UInt64,
    events UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, dimension, hour, gen, value)`,
  `CREATE TABLE IF NOT EXISTS ${db}.rollup_dimension_sessions_hourly (
    site LowCardinality(String),
    hour DateTime('UTC'),
    gen UInt64,
    dimension LowCardinality(String),
    value String,
    sessions UInt64,
    engaged_sessions UInt64,
    pageviews UInt64,
    duration_ms UInt64,
    key_sessions UInt64,
    visitor_bits AggregateFunction(groupBitmap, UInt32)
  ) ENGINE = MergeTree
  PARTITION BY toYYYYMM(hour)
  ORDER BY (site, dimension, hour, gen, value)`,
];
