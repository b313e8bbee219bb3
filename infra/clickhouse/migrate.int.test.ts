import { join } from "node:path";
import { expect, it } from "vitest";
import { tempChdbStore } from "../../test/harness/chdb.js";
import { migrateSchema } from "./migrate.js";
import { openAnalyticsStore } from "./store.js";

const temp = tempChdbStore("cur");

const columns = async (db: string, table: string): Promise<string[]> =>
  (await temp.store.query<{ name: string }>(`SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY name`, { db, table })).map((r) => r.name);

it("leaves a temp.store made by this build as it is", async () => {
  expect(await migrateSchema(temp.store, "cur")).toEqual({ addedColumns: [], remadeTables: [], incompatible: [] });
  expect((await temp.store.query<{ name: string }>(`SELECT name FROM system.databases WHERE name LIKE 'cur%'`, {})).map((r) => r.name)).toEqual(["cur"]);
});

it("adds missing columns to the stored tables, keeping their rows, and reports what it cannot change in place", async () => {
  // The events table as the first build made it: fewer columns, and no version in its engine.
  await temp.store.command(`CREATE DATABASE old`, {});
  await temp.store.command(
    `CREATE TABLE old.events (site LowCardinality(String), event_id String, visitor_id String, session_id String, ts DateTime64(3, 'UTC'), seq UInt64,
       name LowCardinality(String), url String, hostname LowCardinality(String), path String, referrer String, props String, received_at DateTime64(3, 'UTC'))
     ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(ts) ORDER BY (site, toDate(ts), event_id)`,
    {},
  );
  await temp.store.command(`INSERT INTO old.events (site, event_id, visitor_id, session_id, ts, name, path) VALUES ('a', 'e1', 'v1', 's1', '2026-11-01 10:00:00', 'pageview', '/x')`, {});
  const older = await openAnalyticsStore({ url: undefined, chdbPath: join(temp.dir, "chdb"), database: "old" });
  await older.init();
  const result = await migrateSchema(temp.store, "old");
  expect(result.addedColumns).toEqual(["events.user_id", "events.source", "events.medium", "events.channel", "events.browser", "events.os", "events.device", "events.country", "events.region", "events.city", "events.is_bot", "events.version"]);
  expect(result.incompatible).toHaveLength(1);
  expect(result.incompatible[0]).toMatch(/^old\.events: engine ReplacingMergeTree PARTITION .* instead of ReplacingMergeTree\(version\)/);
  expect(await columns("old", "events")).toEqual(await columns("cur", "events"));
  expect(await temp.store.query(`SELECT event_id, path, country, is_bot FROM old.events`, {})).toEqual([{ event_id: "e1", path: "/x", country: "", is_bot: 0 }]);
  // Events are stored and no rollup has rows: every rollup must be computed.
  expect([...result.remadeTables].sort()).toEqual([
    "rollup_dimension_events_daily",
    "rollup_dimension_events_hourly",
    "rollup_dimension_sessions_daily",
    "rollup_dimension_sessions_hourly",
    "rollup_events_hourly",
    "rollup_generations",
    "rollup_sessions_hourly", "rollup_site_events_hourly", "rollup_site_sessions_hourly"]);
  expect(await migrateSchema(temp.store, "old")).toMatchObject({ addedColumns: [] });
});

it("makes a rollup table that differs again under the current definition", async () => {
  await temp.store.command(`INSERT INTO cur.events (site, event_id, visitor_id, session_id, ts, name, path) VALUES ('a', 'e1', 'v1', 's1', '2026-11-01 10:00:00', 'pageview', '/x')`, {});
  for (const table of ["rollup_events_hourly", "rollup_sessions_hourly", "rollup_dimension_events_hourly", "rollup_dimension_sessions_hourly", "rollup_site_sessions_hourly"]) {
    await temp.store.command(`INSERT INTO cur.${table} (site, hour, gen) VALUES ('a', '2026-11-01 10:00:00', 1)`, {});
  }
  for (const table of ["rollup_dimension_events_daily", "rollup_dimension_sessions_daily"]) await temp.store.command(`INSERT INTO cur.${table} (site, day, gen) VALUES ('a', '2026-11-01 00:00:00', 1)`, {});
  await temp.store.command(`INSERT INTO cur.rollup_generations (site, grain, period, gen) VALUES ('a', 'hour', '2026-11-01 10:00:00', 1)`, {});
  // The same columns with ClickHouse's default granules: reading a few rows decodes thousands of bitmaps.
  const [made] = await temp.store.query<{ sql: string }>(`SELECT create_table_query AS sql FROM system.tables WHERE database = 'cur' AND name = 'rollup_dimension_events_daily'`, {});
  await temp.store.command(`DROP TABLE cur.rollup_dimension_events_daily`, {});
  await temp.store.command((made?.sql ?? "").replace(/ SETTINGS .*$/s, ""), {});
  await temp.store.command(`INSERT INTO cur.rollup_dimension_events_daily (site, day, gen) VALUES ('a', '2026-11-01 00:00:00', 1)`, {});
  // The earlier shape, visitors as uniqExact states of the ids, with a stale row; and one that has both forms of the visitor sets.
  await temp.store.command(`DROP TABLE cur.rollup_site_events_hourly`, {});
  await temp.store.command(
    `CREATE TABLE cur.rollup_site_events_hourly (site LowCardinality(String), hour DateTime('UTC'), gen UInt64, pageviews UInt64, events UInt64, visitors AggregateFunction(uniqExact, String)) ENGINE = MergeTree ORDER BY (site, hour, gen)`,
    {},
  );
  await temp.store.command(`INSERT INTO cur.rollup_site_events_hourly SELECT 'a', toDateTime('2026-11-01 10:00:00', 'UTC'), 1, 999, 999, uniqExactState('v1')`, {});
  await temp.store.command(`ALTER TABLE cur.rollup_site_sessions_hourly ADD COLUMN visitors AggregateFunction(uniqExact, String)`, {});
  const result = await migrateSchema(temp.store, "cur");
  expect({ ...result, remadeTables: [...result.remadeTables].sort() }).toEqual({ addedColumns: [], remadeTables: ["rollup_dimension_events_daily", "rollup_site_events_hourly", "rollup_site_sessions_hourly"], incompatible: [] });
  expect(await columns("cur", "rollup_site_events_hourly")).toEqual(["events", "gen", "hour", "pageviews", "site", "visitor_bits"]);
  expect(await columns("cur", "rollup_site_sessions_hourly")).not.toContain("visitors");
  const [left] = await temp.store.query<{ n: string | number }>(`SELECT count() AS n FROM cur.rollup_site_events_hourly`, {});
  expect(Number(left?.n)).toBe(0);
});
