import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, inject } from "vitest";
import { emptyVisitor, ingest, sessionize } from "../../actors/session/reducer.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { PulseEvent } from "../../src/core/event.js";
import { eventually, groupBy, postJson, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";
import { currentHours } from "../harness/rollups.js";

export const SITES = ["site-a", "site-b"] as const;
const DAY = Date.parse("2026-11-20T08:00:00Z");
const MIN = 60_000;

interface SentEvent {
  readonly id: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly ts: number;
}

/**
 * 80 visitors on two sites over two days: gaps of 10, 35 and 50 minutes between their visits
 * (so a 45-minute timeout merges some sessions and not others), campaign and search landings,
 * key events; each visitor's events are sent in shuffled order (late events) and partly twice.
 */
export const rebuildDataset = (): Map<string, SentEvent[]> => {
  const bySite = new Map<string, SentEvent[]>();
  for (let v = 0; v < 80; v++) {
    const site = SITES[v % 2] as string;
    const list = bySite.get(site) ?? [];
    let t = DAY + (v % 7) * 23 * MIN + (v % 3) * 24 * 60 * MIN;
    for (let k = 0; k < 12; k++) {
      t += k === 4 ? [10, 35, 50][v % 3]! * MIN : k === 8 ? [50, 10, 35][v % 3]! * MIN : 2 * MIN + (k % 3) * 20_000;
      list.push({
        id: `${site}-v${v}-e${k}`,
        visitor: `rb-visitor-${v}`,
        name: k === 11 && v % 4 === 0 ? "purchase" : k % 5 === 3 ? "scroll" : "pageview",
        url: `https://${site}.example/p/${(v + k) % 6}${k === 0 && v % 5 === 0 ? "?utm_source=news&utm_medium=email&utm_campaign=nov" : ""}`,
        referrer: k === 0 && v % 3 === 1 ? "https://www.google.com/" : "",
        ts: t,
      });
    }
    bySite.set(site, list);
  }
  return bySite;
};

export const sendAll = async (url: string, bySite: ReadonlyMap<string, readonly SentEvent[]>): Promise<number> => {
  let sent = 0;
  for (const [site, events] of bySite) {
    const byVisitor = groupBy(events, (e) => e.visitor);
    await Promise.all(
      [...byVisitor.values()].map(async (list) => {
        const shuffled = [...list].sort((a, b) => ((a.ts / MIN) * 7919) % 11 - ((b.ts / MIN) * 7919) % 11);
        for (let i = 0; i < shuffled.length; i += 4) {
          const r = await postJson(`${url}/collect`, { site, events: shuffled.slice(i, i + 4) });
          expect(r.status, JSON.stringify(r.json)).toBe(202);
        }
        // A retried request: the same events again.
        expect((await postJson(`${url}/collect`, { site, events: shuffled.slice(0, 3) })).status).toBe(202);
      }),
    );
    sent += events.length;
  }
  return sent;
};

export const countEvents = async (store: AnalyticsStore): Promise<number> =>
  Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.events FINAL`, {}))[0]?.n ?? 0);

/**
 * Everything a report can be computed from, in a fixed order: the events and sessions tables
 * (FINAL, deleted sessions left out), the newest rollup generation of every hour, and the reports
 * over /ws. Left out of event rows: `version` (the live path stamps the session's version when the
 * event was placed, a rebuild the session's final one), and `seq` / `received_at`, which for an event
 * sent twice are the second copy's in the live table (it writes every copy it is handed) and the
 * first copy's, the one the log keeps, in a rebuild.
 */
export const snapshot = async (pulse: TestPulse) => {
  const store = pulse.store as AnalyticsStore;
  const db = store.database;
  const events = await store.query(`SELECT * EXCEPT (version, seq, received_at) FROM ${db}.events FINAL ORDER BY site, event_id`, {});
  const sessions = await store.query(`SELECT * FROM ${db}.sessions FINAL ORDER BY site, session_id`, {});
  const current = currentHours(db);
  const rollupEvents = await store.query(
    `SELECT site, toString(hour) AS h, path, source, channel, country, device, pageviews, events, groupBitmapMerge(visitor_bits) AS v FROM ${db}.rollup_events_hourly WHERE ${current} GROUP BY site, h, path, source, channel, country, device, pageviews, events ORDER BY site, h, path, source, channel, country, device, pageviews, events, v`,
    {},
  );
  const rollupSessions = await store.query(
    `SELECT site, toString(hour) AS h, landing_path, source, channel, sessions, engaged_sessions, pageviews, duration_ms, groupBitmapMerge(visitor_bits) AS v FROM ${db}.rollup_sessions_hourly WHERE ${current} GROUP BY site, h, landing_path, source, channel, sessions, engaged_sessions, pageviews, duration_ms ORDER BY site, h, landing_path, source, channel, sessions, engaged_sessions, pageviews, duration_ms, v`,
    {},
  );
  const client = await QueryClient.open(pulse.url, pulse.token);
  const reports: unknown[] = [];
  for (const site of SITES) {
    const a = await client.query(`r-${site}`, { site, from: "2026-11-19", to: "2026-11-24", metrics: ["pageviews", "visitors", "sessions"], dimensions: ["date"] });
    expect(a.error).toBeUndefined();
    reports.push(a.rows);
    const b = await client.query(`t-${site}`, { site, from: "2026-11-19", to: "2026-11-24", metrics: ["pageviews", "visitors", "sessions"] });
    reports.push(b.rows);
  }
  client.close();
  return { events, sessions, rollupEvents, rollupSessions, reports };
};

/** Sessions per site as the reducer alone makes them from what the log holds. */
export const reducerSessions = async (pulse: TestPulse, bySite: ReadonlyMap<string, readonly SentEvent[]>, timeoutMs: number): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const [site, events] of bySite) {
    let n = 0;
    for (const visitor of new Set(events.map((e) => e.visitor))) {
      const logged: PulseEvent[] = await pulse.log.readVisitor(site, visitor, 0);
      n += sessionize(logged, { timeoutMs, retainMs: 0 }).length;
    }
    out[site] = n;
  }
  return out;
};

export const sessionsPerSite = async (store: AnalyticsStore): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await store.query<{ site: string; n: string }>(`SELECT site, count() AS n FROM ${store.database}.sessions FINAL GROUP BY site ORDER BY site`, {})).map((r) => [r.site, Number(r.n)]),
  );

export const waitForAll = (store: AnalyticsStore, expected: number): Promise<number> => eventually(() => countEvents(store), (n) => n === expected, 60_000);

/** Runs the built `pulse` command against the test's NATS and namespace; returns its exit code and output. */
export const runCli = (env: Record<string, string>, args: readonly string[], onOutput?: (all: string) => void): { done: Promise<{ code: number | null; out: string }>; kill: () => void } => {
  const child = spawn(process.execPath, [join(process.cwd(), "dist", "src", "cli", "main.js"), ...args], {
    env: { ...process.env, PULSE_NATS_URL: inject("natsUrl"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const add = (d: Buffer): void => {
    out += d.toString();
    onOutput?.(out);
  };
  child.stdout.on("data", add);
  child.stderr.on("data", add);
  return { done: new Promise((resolve) => child.once("exit", (code) => resolve({ code, out }))), kill: () => child.kill("SIGKILL") };
};

/**
 * Every visitor's sessions in the active tables against the reducer's run over what the log holds
 * for it: the same sessions with the same event counts, and each event in the session the reducer
 * puts it in. Returns what differs, one line per visitor (empty when all agree).
 */
export const sessionsAgainstLog = async (pulse: TestPulse, timeoutMs: number): Promise<string[]> => {
  const store = pulse.store as AnalyticsStore;
  const db = store.database;
  const visitors = await store.query<{ site: string; visitor_id: string }>(`SELECT DISTINCT site, visitor_id FROM ${db}.events FINAL ORDER BY site, visitor_id`, {});
  const sessions = groupBy(
    await store.query<{ site: string; visitor_id: string; session_id: string; events: string }>(`SELECT site, visitor_id, session_id, toString(events) AS events FROM ${db}.sessions FINAL ORDER BY site, session_id`, {}),
    (r) => `${r.site}/${r.visitor_id}`,
  );
  const placed = groupBy(
    await store.query<{ site: string; visitor_id: string; event_id: string; session_id: string }>(`SELECT site, visitor_id, event_id, session_id FROM ${db}.events FINAL`, {}),
    (r) => `${r.site}/${r.visitor_id}`,
  );
  const problems: string[] = [];
  for (const { site, visitor_id: visitor } of visitors) {
    const logged: PulseEvent[] = await pulse.log.readVisitor(site, visitor, 0);
    const { state } = ingest(emptyVisitor, logged, { timeoutMs, retainMs: Number.POSITIVE_INFINITY });
    const want = state.sessions.map((s) => `${s.id}:${s.events}`).sort();
    const got = (sessions.get(`${site}/${visitor}`) ?? []).map((s) => `${s.session_id}:${s.events}`).sort();
    const misplaced = (placed.get(`${site}/${visitor}`) ?? []).filter((e) => state.sessionOf.get(e.event_id) !== e.session_id).map((e) => e.event_id);
    if (JSON.stringify(want) !== JSON.stringify(got) || misplaced.length > 0) {
      problems.push(`${site}/${visitor}: reducer ${want.join(",")}; tables ${got.join(",")}${misplaced.length > 0 ? `; events in another session: ${misplaced.join(",")}` : ""}`);
    }
  }
  return problems;
};

/** On a failure: every row (deleted and replaced ones too) of a few visitors' sessions, in insert order, to see which write won. */
export const dumpRows = async (store: AnalyticsStore, problems: readonly string[]): Promise<void> => {
  for (const p of problems.slice(0, 4)) {
    const [site, visitor] = p.split(":")[0]!.split("/");
    const rows = await store.query(`SELECT session_id, toString(start) AS st, events, version, is_deleted, _part, _part_offset FROM ${store.database}.sessions WHERE site = {site:String} AND visitor_id = {visitor:String} ORDER BY session_id, _part, _part_offset`, { site: site!, visitor: visitor! });
    console.error("DUMP", p, "\n", rows.map((r) => JSON.stringify(r)).join("\n"));
  }
};

/**
 * A rebuild while events keep coming, then the checks: every acked event counted once, and in the
 * one session the reducer gives it over the log. `before`: events already in the tables.
 */
export const rebuildUnderLoad = async (pulse: TestPulse, env: Record<string, string>, args: readonly string[], before: number, timeoutMs: number): Promise<void> => {
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
  const { code, out } = await runCli(env, args).done;
  rebuilding = false;
  // The load goes on a while into the new version: late events then reach it through the live path only.
  await new Promise((r) => setTimeout(r, 2_000));
  loading = false;
  await load;
  expect(code, out).toBe(0);
  expect(out).toContain("catching up");
  expect(ackedDuringRebuild).toBeGreaterThan(0);
  expect(store.database).not.toBe(versionBefore);

  const expected = String(before + new Set(acked).size);
  await waitForAll(store, Number(expected));
  const [check] = await store.query<{ n: string; ids: string }>(`SELECT toString(count()) AS n, toString(uniqExact(site, event_id)) AS ids FROM ${store.database}.events FINAL`, {});
  expect(check).toEqual({ n: expected, ids: expected });
  // Sessions exactly as the reducer makes them from the log, visitor by visitor, each event in its one session.
  const problems = await eventually(() => sessionsAgainstLog(pulse, timeoutMs), (p) => p.length === 0, 15_000).catch(() => sessionsAgainstLog(pulse, timeoutMs));
  if (problems.length > 0) await dumpRows(store, problems);
  expect(problems).toEqual([]);
  const [covered] = await store.query<{ e: string }>(`SELECT toString(sum(events)) AS e FROM ${store.database}.sessions FINAL`, {});
  expect(covered?.e).toBe(expected);
};
