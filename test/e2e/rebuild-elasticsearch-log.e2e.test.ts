import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { startTestPulse, type TestPulse } from "../harness/pulse.js";
import { rebuildDataset, rebuildUnderLoad, reducerSessions, runCli, sendAll, sessionsPerSite, snapshot, waitForAll } from "./rebuild-scenario.js";

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
  await rebuildUnderLoad(pulse, env, ["rebuild", "--session-timeout", "45m"], 960, 45 * MIN);
}, 180_000);
