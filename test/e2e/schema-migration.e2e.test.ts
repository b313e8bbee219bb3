import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { currentHours } from "../harness/rollups.js";

let pulse: TestPulse | undefined;
afterAll(() => pulse?.dispose());

const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const pageviews = (prefix: string, n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, visitor: `${prefix}v${i % 4}`, name: "pageview", url: `https://a.example/p${i % 3}`, ts: from + i * 7 * 60_000 }));

it("a data folder made by an older build is brought up to the current schema at start, and its reports stay exact", async () => {
  const first = await startTestPulse({ log: "jetstream" });
  const { namespace, dataDir } = first;
  const before = pageviews("m", 30, T0);
  expect((await postJson(`${first.url}/collect`, { site: "site-a", events: before })).status).toBe(202);
  const store = first.store;
  if (!store) throw new Error("the test process owns the store");
  await eventually(async () => Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${namespace}.events FINAL`, {}))[0]?.n), (n) => n === 30);
  await first.stop();

  // Make the folder look like an older build's: a column of events missing, a rollup table of the earlier
  // shape (visitors as uniqExact states of the ids) holding a stale row, another rollup table missing altogether.
  const older = await openAnalyticsStore({ url: undefined, chdbPath: join(dataDir, "chdb"), database: namespace });
  await older.command(`ALTER TABLE ${namespace}.events DROP COLUMN region`, {});
  await older.command(`DROP TABLE ${namespace}.rollup_site_events_hourly`, {});
  await older.command(`CREATE TABLE ${namespace}.rollup_site_events_hourly (site LowCardinality(String), hour DateTime('UTC'), gen UInt64, pageviews UInt64, events UInt64, visitors AggregateFunction(uniqExact, String)) ENGINE = MergeTree ORDER BY (site, hour, gen)`, {});
  await older.command(`INSERT INTO ${namespace}.rollup_site_events_hourly SELECT 'site-a', toDateTime('2026-11-20 09:00:00', 'UTC'), 1, 999, 999, uniqExactState('x')`, {});
  await older.command(`DROP TABLE ${namespace}.rollup_dimension_events_hourly`, {});
  await older.close();

  pulse = await startTestPulse({ log: "jetstream", namespace, dataDir });
  const current = pulse.store;
  if (!current) throw new Error("the test process owns the store");
  const q = <T>(sql: string) => current.query<T>(sql, {});
  expect((await q<{ name: string }>(`SELECT name FROM system.columns WHERE database = '${namespace}' AND table = 'events' AND name = 'region'`)).length).toBe(1);
  expect((await q<{ name: string }>(`SELECT name FROM system.columns WHERE database = '${namespace}' AND table = 'rollup_site_events_hourly' AND name IN ('visitors', 'visitor_bits')`)).map((r) => r.name)).toEqual(["visitor_bits"]);

  // New events after the restart land next to the old ones; the rollups of every hour, old and new, equal the raw tables.
  const after = pageviews("n", 20, T0 + 5 * 3_600_000);
  expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events: after })).status).toBe(202);
  const inCurrent = currentHours(namespace);
  const raw = () => q(`SELECT toString(toStartOfHour(ts)) AS h, countIf(name = 'pageview') AS pv, uniqExact(visitor_id) AS vis FROM ${namespace}.events FINAL WHERE site = 'site-a' GROUP BY h ORDER BY h`);
  const bySite = () => q(`SELECT toString(hour) AS h, sum(pageviews) AS pv, groupBitmapMerge(visitor_bits) AS vis FROM ${namespace}.rollup_site_events_hourly WHERE site = 'site-a' AND ${inCurrent} GROUP BY h ORDER BY h`);
  const byPage = () => q(`SELECT value, sum(pageviews) AS pv FROM ${namespace}.rollup_dimension_events_hourly WHERE site = 'site-a' AND dimension = 'pagePath' AND ${inCurrent} GROUP BY value ORDER BY value`);
  const rawByPage = () => q(`SELECT path AS value, countIf(name = 'pageview') AS pv FROM ${namespace}.events FINAL WHERE site = 'site-a' GROUP BY value ORDER BY value`);
  const truth = await eventually(raw, (rows) => rows.reduce((n: number, r) => n + Number((r as { pv: number }).pv), 0) === 50);
  expect(truth.length).toBeGreaterThanOrEqual(5);
  await eventually(bySite, (rows) => JSON.stringify(rows) === JSON.stringify(truth));
  const pages = await rawByPage();
  await eventually(byPage, (rows) => JSON.stringify(rows) === JSON.stringify(pages));
});
