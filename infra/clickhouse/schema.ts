/**
 * Projection tables. Both are ReplacingMergeTree so that re-inserting a row (a redelivered
 * batch, a retried insert) replaces rather than adds; readers use FINAL.
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
    received_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
  PARTITION BY toYYYYMM(ts)
  ORDER BY (site, toDate(ts), event_id)`,
  // version = events in the session: a session only grows, so the fullest row wins.
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
    version UInt64
  ) ENGINE = ReplacingMergeTree(version)
  ORDER BY (site, session_id)`,
];
