import { expect, it } from "vitest";
import { tempChdbStore } from "../../test/harness/chdb.js";
import { sessionOf } from "../../test/harness/sessions.js";
import { parseReportSpec } from "../query/report.js";
import { queryService } from "../query/service.js";
import { chTime, eventRow, sessionRow } from "../worker/projection.js";
import { RollupRefresher } from "./rollups.js";

// Daily rows by one dimension over a real chDB store: a report reads a day from them only while they were made
// after the day's hours last changed, and from the hours otherwise, with the raw tables' numbers either way.
const temp = tempChdbStore("rollups_daily");
const SITE = "d";
const DAY = 86_400_000;
const D1 = Date.UTC(2026, 10, 10);
const hourOf = (ms: number): string => chTime(ms).slice(0, 13) + ":00:00";

let n = 0;
/** A one-pageview session of its own visitor, at `ts`, on `path`, from `country`. */
const visit = async (ts: number, path: string, country: string): Promise<readonly [string, string]> => {
  n++;
  const session = sessionOf({ id: `s${n}`, site: SITE, visitor: `v${n % 3}`, start: ts, landingPage: `https://d.example${path}`, exitPage: `https://d.example${path}`, country, version: n });
  const event = { id: `e${n}`, site: SITE, visitor: session.visitor, name: "pageview", ts, seq: n, receivedAt: ts, url: `https://d.example${path}`, referrer: "", props: {} };
  await temp.store.insert("events", [{ ...eventRow({ event, sessionId: session.id, source: "(direct)", medium: "(none)", channel: "Direct", version: n }), country }]);
  await temp.store.insert("sessions", [sessionRow(session)]);
  return [SITE, hourOf(ts)];
};

const specs = (timezone: string) => {
  const dateRanges = [{ startDate: "2026-11-10", endDate: "2026-11-12" }];
  return [
    parseReportSpec({ site: SITE, dateRanges, dimensions: ["pagePath"], metrics: ["screenPageViews", "activeUsers"], orderBys: [{ metric: { metricName: "screenPageViews" }, desc: true }] }),
    parseReportSpec({ site: SITE, dateRanges, dimensions: ["country"], metrics: ["sessions", "activeUsers"], metricAggregations: ["TOTAL"] }),
  ].map((spec) => ({ spec, timezone }));
};

const answer = async (spec: ReturnType<typeof parseReportSpec>, timezone: string, source: "rollup" | "raw") => {
  const a = await queryService(temp.store, () => ({ timezone }), { keyEvents: [], source, now: () => D1 + 5 * DAY }).compute(spec);
  return JSON.stringify([a.rows, a.rowCount, a.totals]);
};

/** Every report, in UTC and in Berlin (whose days end at 23:00 UTC: hours on both sides of the whole UTC days), equals raw. */
const expectExact = async (): Promise<string[]> => {
  const answers: string[] = [];
  for (const [i, { spec, timezone }] of [...specs("UTC"), ...specs("Europe/Berlin")].entries()) {
    const rolled = await answer(spec, timezone, "rollup");
    expect(rolled, `${timezone}, report ${i % 2}`).toBe(await answer(spec, timezone, "raw"));
    answers.push(rolled);
  }
  return answers;
};

const dailyGen = async (day: number): Promise<string> =>
  (await temp.store.query<{ g: string }>(`SELECT toString(max(gen)) AS g FROM ${temp.store.database}.rollup_generations WHERE site = {site:String} AND grain = 'day' AND period = toDateTime({day:String}, 'UTC')`, { site: SITE, day: hourOf(day) }))[0]?.g ?? "0";

it("reads a day from its daily rows while they are newer than its hours, from the hours otherwise, exact either way", async () => {
  let clock = 0;
  const refresher = new RollupRefresher(temp.store, { daysEveryMs: 60_000, now: () => clock });
  const touched = [
    await visit(D1 - 30 * 60_000, "/a", "DE"), // 23:30 UTC the day before: Berlin's first day
    await visit(D1 + 10 * 3_600_000, "/a", "DE"),
    await visit(D1 + 11 * 3_600_000, "/b", "FR"),
    await visit(D1 + DAY + 5 * 3_600_000, "/a", "FR"),
    await visit(D1 + 2 * DAY + 23 * 3_600_000 + 60_000, "/c", "US"), // after Berlin's last day
  ];
  refresher.touch(touched);
  await refresher.refresh();
  const first = await expectExact();
  const day2 = D1 + DAY;
  const built = await dailyGen(day2);
  expect(built).not.toBe("0");

  // A row that only the daily table has shows which table answered: while current, the day's daily rows.
  const tamper = `INSERT INTO ${temp.store.database}.rollup_dimension_events_daily (site, day, gen, dimension, value, pageviews, events, visitor_bits)
    SELECT site, day, gen, dimension, '/daily-only', 1000, 1000, visitor_bits FROM ${temp.store.database}.rollup_dimension_events_daily
    WHERE site = {site:String} AND day = toDateTime({day:String}, 'UTC') AND dimension = 'pagePath' AND value = '/a'`;
  await temp.store.command(tamper, { site: SITE, day: hourOf(day2) });
  const pages = specs("UTC")[0]!;
  expect(await answer(pages.spec, "UTC", "rollup")).toContain("/daily-only");

  // A new hour of that day: its daily rows are older now, not due again for a minute, so its hours answer.
  refresher.touch([await visit(day2 + 6 * 3_600_000, "/b", "DE")]);
  await refresher.refresh();
  expect(await dailyGen(day2)).toBe(built);
  expect(await answer(pages.spec, "UTC", "rollup")).not.toContain("/daily-only");
  const second = await expectExact();
  expect(second).not.toEqual(first);

  // Once due, the day's daily rows are made again from its hours (and the older generation deleted).
  clock += 60_000;
  expect(refresher.pending).toBe(1);
  await refresher.refresh();
  expect(await dailyGen(day2)).not.toBe(built);
  await temp.store.command(tamper, { site: SITE, day: hourOf(day2) });
  expect(await answer(pages.spec, "UTC", "rollup")).toContain("/daily-only");
  await temp.store.command(`DELETE FROM ${temp.store.database}.rollup_dimension_events_daily WHERE value = '/daily-only'`, {});
  expect(await expectExact()).toEqual(second);
});
