import { expect, it } from "vitest";
import { tempChdbStore } from "../../test/harness/chdb.js";
import type { SessionAgg } from "../../actors/session/reducer.js";
import { eventually } from "../../test/harness/pulse.js";
import { currentHours } from "../../test/harness/rollups.js";
import { sessionOf } from "../../test/harness/sessions.js";
import { chTime, eventRow, sessionRow, tombstoneRow } from "../worker/projection.js";
import { RollupRefresher } from "./rollups.js";

// The refresher over a real chDB temp.store, with older generations deleted in batches as the live writer does.
const temp = tempChdbStore("rollups_test");

const SITE = "it's";
const H1 = Date.UTC(2026, 10, 20, 10, 0, 0);
const H2 = H1 + 3_600_000;
const hourOf = (ms: number): string => chTime(ms).slice(0, 13) + ":00:00";

const session = (id: string, start: number, version: number): SessionAgg =>
  sessionOf({ id, site: SITE, visitor: "v1", start, end: start + 60_000, pageviews: 2, events: 2, exitPage: "https://a.example/x", engaged: true, version });

const pageview = (id: string, ts: number, sessionId: string): Record<string, unknown> =>
  eventRow({ event: { id, site: SITE, visitor: "v1", name: "pageview", ts, seq: 1, receivedAt: ts, url: "https://a.example/", referrer: "", props: {} }, sessionId, source: "(direct)", medium: "(none)", channel: "Direct", version: 1 });

/** What a reader sees: each hour's current generation. */
const newest = (table: string, metric: string) =>
  temp.store.query<{ hour: string; n: string }>(
    `SELECT toString(hour) AS hour, toString(sum(${metric})) AS n FROM ${temp.store.database}.${table}
     WHERE site = {site:String} AND ${currentHours(temp.store.database)}
     GROUP BY hour ORDER BY hour`,
    { site: SITE },
  );
const generations = async (table: string, hour: string): Promise<number> =>
  Number(
    (await temp.store.query<{ n: string }>(`SELECT toString(count(DISTINCT gen)) AS n FROM ${temp.store.database}.${table} WHERE site = {site:String} AND hour = toDateTime({hour:String}, 'UTC')`, { site: SITE, hour }))[0]?.n,
  );

it("an hour whose only session moved away reads as empty at once; older generations of other hours go at the next collection", async () => {
  let clock = 0;
  const refresher = new RollupRefresher(temp.store, { collectEveryMs: 60_000, now: () => clock });
  await temp.store.insert("events", [pageview("e1", H1 + 60_000, "s1")]);
  await temp.store.insert("sessions", [sessionRow(session("s1", H1 + 60_000, 1))]);
  refresher.touch([[SITE, hourOf(H1)]]);
  await refresher.refresh();
  expect(await newest("rollup_site_sessions_hourly", "sessions")).toEqual([{ hour: hourOf(H1), n: "1" }]);

  // A late event moved the session: the old row is replaced by a tombstone, the session starts again in the next hour.
  await temp.store.insert("events", [pageview("e2", H2 + 60_000, "s2")]);
  await temp.store.insert("sessions", [tombstoneRow({ id: "s1", site: SITE, visitor: "v1", start: H1 + 60_000, version: 2 }), sessionRow(session("s2", H2 + 60_000, 2))]);
  refresher.touch([
    [SITE, hourOf(H1)],
    [SITE, hourOf(H2)],
  ]);
  await refresher.refresh();
  for (const table of ["rollup_site_sessions_hourly", "rollup_sessions_hourly", "rollup_dimension_sessions_hourly"]) {
    // The dimension table holds a row per dimension of the session: nine.
    expect(await newest(table, "sessions"), table).toEqual([{ hour: hourOf(H2), n: table.includes("dimension") ? "9" : "1" }]);
  }
  expect(await newest("rollup_site_events_hourly", "pageviews")).toEqual([
    { hour: hourOf(H1), n: "1" },
    { hour: hourOf(H2), n: "1" },
  ]);
  // The hour recomputed twice still holds both generations: none was collected yet.
  expect(await generations("rollup_site_events_hourly", hourOf(H1))).toBe(2);

  // Once the collection is due, the next refresh deletes what it supersedes (in the background).
  clock += 60_000;
  refresher.touch([[SITE, hourOf(H2)]]);
  await refresher.refresh();
  await eventually(() => generations("rollup_site_events_hourly", hourOf(H1)), (n) => n === 1, 10_000);
  expect(await newest("rollup_site_events_hourly", "pageviews")).toEqual([
    { hour: hourOf(H1), n: "1" },
    { hour: hourOf(H2), n: "1" },
  ]);
});

it("recomputes a rebuild's thousands of hours in one go, as it does a few", async () => {
  const site = "many";
  const start = Date.UTC(2026, 5, 1);
  const at = [start + 5 * 3_600_000, start + 700 * 3_600_000, start + 1_499 * 3_600_000];
  await temp.store.insert(
    "events",
    at.map((ts, i) => ({ ...pageview(`m${i}`, ts + 60_000, `ms${i}`), site })),
  );
  const refresher = new RollupRefresher(temp.store);
  // About 85 KiB of (site, hour) pairs: more than the refresher writes into its SQL.
  refresher.touch(Array.from({ length: 1_500 }, (_, h) => [site, hourOf(start + h * 3_600_000)] as const));
  expect(await refresher.refresh()).toEqual(new Set([site]));
  const rows = await temp.store.query<{ hour: string; n: string }>(
    `SELECT toString(hour) AS hour, toString(sum(pageviews)) AS n FROM ${temp.store.database}.rollup_site_events_hourly WHERE site = {site:String} GROUP BY hour ORDER BY hour`,
    { site },
  );
  expect(rows).toEqual(at.map((ts) => ({ hour: hourOf(ts), n: "1" })));
});
