import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { dumpRows, rebuildDataset, reducerSessions, runCli, sendAll, sessionsAgainstLog, sessionsPerSite, snapshot, waitForAll } from "./rebuild-scenario.js";

let pulse: TestPulse;
let env: Record<string, string>;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "elasticsearch", sites: "site-a,site-b" });
  env = { PULSE_NAMESPACE: pulse.namespace, PULSE_DATA_DIR: pulse.dataDir, PULSE_SITES: "site-a,site-b", PULSE_ELASTICSEARCH_URL: inject("elasticsearchUrl") };
});
afterAll(() => pulse?.dispose());

const dataset = rebuildDataset();
const MIN = 60_000;

it("drop the projections, rebuild from the Elasticsearch log: tables, rollups and reports as before", async () => {
  const store = pulse.store as AnalyticsStore;
  await waitForAll(store, await sendAll(pulse.url, dataset));
  await new Promise((r) => setTimeout(r, 2_500));
  const before = await snapshot(pulse);

  const dry = await runCli(env, ["rebuild", "--dry-run", "--session-timeout", "45m"]).done;
  expect(dry.code, dry.out).toBe(0);
  const predicted = await reducerSessions(pulse, dataset, 45 * MIN);
  const now = await sessionsPerSite(store);
  for (const site of ["site-a", "site-b"]) expect(dry.out).toContain(`${site}: sessions ${now[site]} -> ${predicted[site]}`);
  expect(await snapshot(pulse)).toEqual(before);

  for (const t of ["events", "sessions", "rollup_events_hourly", "rollup_sessions_hourly"]) await store.command(`TRUNCATE TABLE ${store.database}.${t}`, {});
  const { code, out } = await runCli(env, ["rebuild", "--source", "es"]).done;
  expect(code, out).toBe(0);
  expect(out).toMatch(/rebuilt version 2 \(\w+_v2\): 960 events/);
  expect(await snapshot(pulse)).toEqual(before);
}, 120_000);

it("rebuild while events keep coming: afterwards every acked event is counted once, in the one session the reducer gives it", async () => {
  const store = pulse.store as AnalyticsStore;
  const versionBefore = store.database;
  const acked: string[] = [];
  let ackedDuringRebuild = 0;
  let rebuilding = true;
  let loading = true;
  const t0 = Date.parse("2026-11-21T12:00:00Z");
  const load = (async () => {
    for (let i = 0; loading; i++) {
      // New visitors and visitors of the dataset, some events late, all under load while the rebuild runs.
      const site = i % 2 === 0 ? "site-a" : "site-b";
      const visitor = i % 3 === 0 ? `rb-visitor-${i % 80}` : `live-${i % 40}`;
      const events = Array.from({ length: 5 }, (_, k) => ({ id: `live-${i}-${k}`, visitor, name: "pageview", url: `https://${site}.example/l/${k}`, ts: t0 + (i % 50) * 7 * MIN + k * MIN - (k === 4 ? 90 * MIN : 0) }));
      const r = await postJson(`${pulse.url}/collect`, { site, events });
      if (r.status !== 202) continue;
      acked.push(...events.map((e) => `${site}/${e.id}`));
      if (rebuilding) ackedDuringRebuild += events.length;
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  const { code, out } = await runCli(env, ["rebuild", "--session-timeout", "45m"]).done;
  rebuilding = false;
  // The load goes on a while into the new version: late events then reach it through the live path only.
  await new Promise((r) => setTimeout(r, 2_000));
  loading = false;
  await load;
  expect(code, out).toBe(0);
  expect(out).toContain("catching up");
  expect(ackedDuringRebuild).toBeGreaterThan(0);
  expect(store.database).not.toBe(versionBefore);

  const expected = String(960 + new Set(acked).size);
  await waitForAll(store, Number(expected));
  const [check] = await store.query<{ n: string; ids: string }>(`SELECT toString(count()) AS n, toString(uniqExact(site, event_id)) AS ids FROM ${store.database}.events FINAL`, {});
  expect(check).toEqual({ n: expected, ids: expected });
  // Sessions exactly as the reducer makes them from the log, visitor by visitor, each event in its one session.
  const problems = await eventually(() => sessionsAgainstLog(pulse, 45 * MIN), (p) => p.length === 0, 15_000).catch(() => sessionsAgainstLog(pulse, 45 * MIN));
  if (problems.length > 0) await dumpRows(store, problems);
  expect(problems).toEqual([]);
  const [covered] = await store.query<{ e: string }>(`SELECT toString(sum(events)) AS e FROM ${store.database}.sessions FINAL`, {});
  expect(covered?.e).toBe(expected);
}, 180_000);
