import { afterAll, beforeAll, expect, it } from "vitest";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { rebuildDataset, rebuildUnderLoad, reducerSessions, runCli, sendAll, sessionsPerSite, snapshot, waitForAll } from "./rebuild-scenario.js";

let pulse: TestPulse;
let env: Record<string, string>;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: "site-a,site-b" });
  env = { PULSE_NAMESPACE: pulse.namespace, PULSE_DATA_DIR: pulse.dataDir, PULSE_SITES: "site-a,site-b" };
});
afterAll(() => pulse?.dispose());

const dataset = rebuildDataset();
const MIN = 60_000;

it("drop the projections, rebuild from the JetStream log: tables, rollups and reports as before", async () => {
  const store = pulse.store as AnalyticsStore;
  await waitForAll(store, await sendAll(pulse.url, dataset));
  // Let the live rollups catch up with the last flush before taking the picture.
  await new Promise((r) => setTimeout(r, 2_500));
  const before = await snapshot(pulse);
  expect(before.sessions.length).toBeGreaterThan(150);

  for (const t of ["events", "sessions", "rollup_events_hourly", "rollup_sessions_hourly"]) await store.command(`TRUNCATE TABLE ${store.database}.${t}`, {});
  const { code, out } = await runCli(env, ["rebuild"]).done;
  expect(code, out).toBe(0);
  expect(out).toContain("the running Pulse is rebuilding");
  expect(out).toMatch(/rebuilt version 2 \(\w+_v2\): 960 events/);
  expect(store.database).toBe(`${pulse.namespace}_v2`);
  expect(await snapshot(pulse)).toEqual(before);
}, 120_000);

it("rebuild with a 45-minute timeout: sessions change exactly as the reducer predicts, the live path follows, rollback restores", async () => {
  const store = pulse.store as AnalyticsStore;
  const at30 = await sessionsPerSite(store);
  expect(at30).toEqual(await reducerSessions(pulse, dataset, 30 * MIN));
  const predicted = await reducerSessions(pulse, dataset, 45 * MIN);
  expect(predicted).not.toEqual(at30);

  const { code, out } = await runCli(env, ["rebuild", "--session-timeout", "45m"]).done;
  expect(code, out).toBe(0);
  expect(await sessionsPerSite(store)).toEqual(predicted);

  // The live path now ends sessions after 45 minutes too: a 40-minute gap stays in one session.
  const t = Date.parse("2026-11-22T10:00:00Z");
  const follow = [
    { id: "follow-1", visitor: "follower", name: "pageview", url: "https://site-a.example/", ts: t },
    { id: "follow-2", visitor: "follower", name: "pageview", url: "https://site-a.example/x", ts: t + 40 * MIN },
  ];
  expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events: follow })).status).toBe(202);
  const followerSessions = () => store.query<{ n: string; e: string }>(`SELECT toString(count()) AS n, toString(sum(events)) AS e FROM ${store.database}.sessions FINAL WHERE visitor_id = 'follower'`, {});
  expect(await eventually(followerSessions, (r) => Number(r[0]?.e) === 2)).toEqual([{ n: "1", e: "2" }]);

  const status = await runCli(env, ["status"]).done;
  expect(status.code, status.out).toBe(0);
  expect(status.out).toMatch(/active\s+v3 .*"sessionTimeoutMs":2700000/);
  expect(status.out).toMatch(/previous\s+v2 /);

  const back = await runCli(env, ["rebuild", "--rollback"]).done;
  expect(back.code, back.out).toBe(0);
  expect(back.out).toContain("version 2");
  // Version 2 caught up with what was logged while version 3 was active (the follower's two events, two sessions at 30 minutes),
  // and the live path has its 30-minute timeout back.
  expect(await sessionsPerSite(store)).toEqual({ ...at30, "site-a": (at30["site-a"] ?? 0) + 2 });
  const site = await runCli(env, ["site", "show", "site-a"]).done;
  expect(JSON.parse(site.out)).toMatchObject({ sessionTimeoutMs: 30 * MIN });
}, 120_000);

it("rebuild while events keep coming: afterwards every acked event is counted once, in the one session the reducer gives it", async () => {
  await rebuildUnderLoad(pulse, env, ["rebuild"], 960 + 2, 30 * MIN);
}, 180_000);

it("refuses bad input with a reason", async () => {
  const bad = await runCli(env, ["rebuild", "--from", "2026-11-30", "--to", "2026-11-01"]).done;
  expect(bad.code).toBe(1);
  expect(bad.out).toContain("--from (2026-11-30) must come before --to (2026-11-01)");
  const es = await runCli(env, ["rebuild", "--source", "es"]).done;
  expect(es.code).toBe(1);
  expect(es.out).toContain("--source es needs PULSE_ELASTICSEARCH_URL");
});
