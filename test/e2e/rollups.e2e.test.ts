import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { currentHours } from "../harness/rollups.js";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream" });
});
afterAll(() => pulse?.dispose());

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 22, 0, 0);

it("hourly rollups answer exactly what the deduplicated tables answer, after duplicates and late events", async () => {
  // 30 visitors over three days, pages and referrers varied; sent shuffled, partly twice.
  const events = [];
  for (let v = 0; v < 30; v++) {
    for (let k = 0; k < 8; k++) {
      const minute = v * 97 + k * (k % 3 === 0 ? 40 : 7);
      events.push({
        id: `r${v}-${k}`,
        visitor: `rv${v}`,
        name: k % 4 === 3 ? "signup" : "pageview",
        url: `https://a.example/p${(v + k) % 5}${k === 0 && v % 3 === 0 ? "?utm_source=mail&utm_medium=email" : ""}`,
        referrer: k === 0 && v % 2 === 0 ? "https://www.google.com/" : "",
        ts: T0 + minute * MIN,
      });
    }
  }
  const shuffled = [...events].sort((a, b) => ((a.id.length * 7919 + a.ts) % 13) - ((b.id.length * 7919 + b.ts) % 13));
  for (let i = 0; i < shuffled.length; i += 17) expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events: shuffled.slice(i, i + 17) })).status).toBe(202);
  expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events: events.slice(0, 40) })).status).toBe(202);
  // A second site with part of the same hours: one refresh recomputes both, and neither may take the other's rows.
  const other = events.filter((e) => e.visitor < "rv2").map((e) => ({ ...e, id: `b-${e.id}`, name: "pageview" }));
  expect((await postJson(`${pulse.url}/collect`, { site: "site-b", events: other })).status).toBe(202);

  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  const db = store.database;
  let site = "site-a";
  const q = <T>(sql: string) => store.query<T>(sql, { site });
  const current = `site = {site:String} AND ${currentHours(db)}`;
  const raw = async () => ({
    byDay: await q(`SELECT toString(toDate(ts)) AS d, countIf(name = 'pageview') AS pv, uniqExact(visitor_id) AS vis FROM ${db}.events FINAL WHERE site = {site:String} AND is_bot = 0 GROUP BY d ORDER BY d`),
    byChannel: await q(`SELECT channel, countIf(name = 'pageview') AS pv FROM ${db}.events FINAL WHERE site = {site:String} AND is_bot = 0 GROUP BY channel ORDER BY channel`),
    sessions: await q(`SELECT toString(toDate(start)) AS d, count() AS s, countIf(engaged = 1) AS e, uniqExact(visitor_id) AS vis FROM ${db}.sessions FINAL WHERE site = {site:String} AND is_bot = 0 GROUP BY d ORDER BY d`),
  });
  const rolled = async () => ({
    byDay: await q(`SELECT toString(toDate(hour)) AS d, sum(pageviews) AS pv, groupBitmapMerge(visitor_bits) AS vis FROM ${db}.rollup_events_hourly WHERE ${current} GROUP BY d ORDER BY d`),
    byChannel: await q(`SELECT channel, sum(pageviews) AS pv FROM ${db}.rollup_events_hourly WHERE ${current} GROUP BY channel ORDER BY channel`),
    sessions: await q(`SELECT toString(toDate(hour)) AS d, sum(sessions) AS s, sum(engaged_sessions) AS e, groupBitmapMerge(visitor_bits) AS vis FROM ${db}.rollup_sessions_hourly WHERE ${current} GROUP BY d ORDER BY d`),
  });
  for (const [name, sent] of [["site-a", events], ["site-b", other]] as const) {
    site = name;
    await eventually(async () => Number((await q<{ n: string }>(`SELECT count() AS n FROM ${db}.events FINAL WHERE site = {site:String}`))[0]?.n), (n) => n === sent.length);
    const truth = await raw();
    expect(truth.byDay.length).toBeGreaterThanOrEqual(name === "site-a" ? 3 : 1);
    expect(truth.sessions.length).toBeGreaterThanOrEqual(name === "site-a" ? 3 : 1);
    await eventually(rolled, (r) => JSON.stringify(r) === JSON.stringify(truth), 30_000);
  }
});
