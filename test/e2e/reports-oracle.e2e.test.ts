import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SiteRegistry } from "../../infra/nats/registry.js";
import { natsNames } from "../../infra/nats/streams.js";
import { openGeo } from "../../src/enrich/geo.js";
import { parseUserAgent } from "../../src/enrich/user-agent.js";
import { compileReport, parseReportSpec } from "../../src/query/report.js";
import { queryService, type QueryService } from "../../src/query/service.js";
import { eventually, startTestPulse, uniqueNamespace, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";
import { addDays, generateSite, SITES, type OracleSite, type SentEvent } from "./reports/dataset.js";
import { EVENT_ONLY, funnel, isParam, localDate, realtime, report, retention, sessionize, SESSION_ONLY, type OracleData, type Predicate, type Row } from "./reports/oracle.js";

/**
 * Acceptance 1 and 2 of the reports: a generated dataset with known truth goes in through the
 * edge; every metric, by every dimension, agrees with a plain computation over the events sent,
 * over /ws, and the rollups answer exactly what the raw tables answer.
 */

const EVENT_METRICS = ["activeUsers", "screenPageViews", "eventCount", "keyEvents"];
const SESSION_METRICS = ["activeUsers", "newUsers", "sessions", "engagedSessions", "engagementRate", "bounceRate", "screenPageViewsPerSession", "averageSessionDuration", "sessionKeyEventRate"];
const ALL_METRICS = [...new Set([...EVENT_METRICS, ...SESSION_METRICS])];
const DIMENSIONS = [
  "date", "hour", "dateHour", "week", "month", "pagePath", "landingPage", "exitPage", "hostName", "eventName", "sessionSource", "sessionMedium",
  "sessionCampaignName", "sessionDefaultChannelGroup", "pageReferrer", "country", "region", "city", "deviceCategory", "browser", "operatingSystem",
  "param:plan", "param:file", "param:size", "param:trial", "param:value",
];
const metricsFor = (dims: readonly string[]): string[] =>
  dims.some((d) => EVENT_ONLY.has(d) || isParam(d)) ? EVENT_METRICS : dims.some((d) => SESSION_ONLY.has(d)) ? SESSION_METRICS : ALL_METRICS;

let pulse: TestPulse;
let client: QueryClient;
let raw: QueryService;
let rollup: QueryService;
let registryView: NatsConnection | undefined;
let closeRegistry = (): void => undefined;
const now = Date.now();
const firstDay = addDays(new Date(now).toISOString().slice(0, 10), -9);
const data = new Map<string, OracleData>();
const sent: SentEvent[] = [];

const post = async (e: readonly SentEvent[]): Promise<void> => {
  const first = e[0] as SentEvent;
  const body = { site: first.site, events: e.map((x) => ({ id: x.id, visitor: x.visitor, name: x.name, url: x.url, referrer: x.referrer, ts: x.ts, props: x.props })) };
  const res = await fetch(`${pulse.url}/collect`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", "user-agent": first.ua, "x-forwarded-for": first.ip } });
  expect(res.status, await res.clone().text()).toBe(202);
  expect(((await res.json()) as { accepted: number }).accepted).toBe(e.length);
};

beforeAll(async () => {
  const namespace = uniqueNamespace();
  const nc = await connect({ servers: inject("natsUrl") });
  const registry = await SiteRegistry.open(nc, natsNames(namespace).registryBucket);
  for (const s of SITES) await registry.addSite({ id: s.id, hostnames: [], timezone: s.timezone, sessionTimeoutMs: s.timeoutMs, measurementId: "" });
  registry.close();
  await nc.close();
  pulse = await startTestPulse({ log: "jetstream", namespace, sites: SITES.map((s) => s.id).join(","), env: { PULSE_TRUST_PROXY: "true" } });

  const geo = await openGeo();
  const facts = (e: SentEvent) => ({ ...geo.lookup(e.ip), ...parseUserAgent(e.ua) });
  const batches: SentEvent[][] = [];
  SITES.forEach((site, i) => {
    const { events, sendOrder } = generateSite(site, firstDay, now, 1000 + i);
    data.set(site.id, sessionize(site, events, facts));
    sent.push(...events);
    for (const visitor of sendOrder) {
      const requests: SentEvent[][] = [];
      for (let k = 0; k < visitor.length; k += 4) requests.push(visitor.slice(k, k + 4));
      batches.push(...requests);
      // A retried request: the same events again change nothing. Only for visitors seen within one day: a worker
      // forgets sessions that ended a day before the visitor's newest, and would place a retry of those as new.
      const span = Math.max(...visitor.map((e) => e.ts)) - Math.min(...visitor.map((e) => e.ts));
      if (span < 20 * 3_600_000 && visitor.length % 3 === 0 && requests[0]) batches.push(requests[0]);
    }
  });
  // Visitors in parallel, each visitor's requests in order.
  const byVisitor = new Map<string, SentEvent[][]>();
  for (const b of batches) byVisitor.set((b[0] as SentEvent).visitor + (b[0] as SentEvent).site, [...(byVisitor.get((b[0] as SentEvent).visitor + (b[0] as SentEvent).site) ?? []), b]);
  const queue = [...byVisitor.values()];
  await Promise.all(
    Array.from({ length: 12 }, async () => {
      for (let list = queue.shift(); list; list = queue.shift()) for (const b of list) await post(b);
    }),
  );

  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  const db = store.database;
  for (const s of SITES) {
    const events = sent.filter((e) => e.site === s.id).length;
    const sessions = (data.get(s.id) as OracleData).sessions.length;
    await eventually(
      async () => (await store.query<{ e: string; s: string }>(`SELECT (SELECT count() FROM ${db}.events FINAL WHERE site = {site:String}) AS e, (SELECT count() FROM ${db}.sessions FINAL WHERE site = {site:String} AND is_bot = 0) AS s`, { site: s.id }))[0],
      (r) => Number(r?.e) === events && Number(r?.s) === sessions,
      60_000,
    ).catch(async (e: unknown) => {
      const got = await store.query<{ v: string; st: string; n: string }>(`SELECT visitor_id AS v, toString(start) AS st, events AS n FROM ${db}.sessions FINAL WHERE site = {site:String} AND is_bot = 0`, { site: s.id });
      const want = (data.get(s.id) as OracleData).sessions.map((x) => `${x.visitor} ${new Date(x.start).toISOString()} ${x.events.length}`);
      const have = got.map((x) => `${x.v} ${x.st.replace(" ", "T")}Z ${x.n}`);
      console.error("sessions missing:", want.filter((x) => !have.includes(x)), "sessions not expected:", have.filter((x) => !want.includes(x)));
      throw new Error(`site ${s.id}: expected ${events} events and ${sessions} sessions; ${(e as Error).message}`);
    });
  }
  // The rollup path is asked directly below: the last rows must be in the rollups too, not only stored.
  await eventually(
    async () => SITES.filter((s) => pulse.rollupsBehind?.(s.id) !== false).map((s) => s.id),
    (behind) => behind.length === 0,
    60_000,
  );
  registryView = await connect({ servers: inject("natsUrl") });
  const sites = await SiteRegistry.open(registryView, natsNames(namespace).registryBucket);
  closeRegistry = () => sites.close();
  const keyEvents = ["purchase", "sign_up", "signup", "generate_lead"];
  raw = queryService(store, (id) => sites.site(id), { keyEvents, source: "raw" });
  rollup = queryService(store, (id) => sites.site(id), { keyEvents, source: "rollup" });
  client = await QueryClient.open(pulse.url, pulse.token);
}, 240_000);
afterAll(async () => {
  client?.close();
  closeRegistry();
  await registryView?.close();
  await pulse?.dispose();
});

const round = (rows: readonly Row[]): Row[] => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * 1e9) / 1e9 : v])));

let n = 0;
const ask = async (query: Record<string, unknown>) => {
  const a = await client.query(`q${n++}`, query);
  expect(a.error, JSON.stringify(query)).toBeUndefined();
  return a;
};

const whole = (site: OracleSite) => ({ startDate: addDays(firstDay, -1), endDate: addDays(firstDay, 10), from: addDays(firstDay, -1), to: addDays(firstDay, 10), site: site.id });
const spec = (site: OracleSite, dimensions: readonly string[], metrics: readonly string[], more: Record<string, unknown> = {}) => {
  const w = whole(site);
  return { site: site.id, dateRanges: [{ startDate: w.startDate, endDate: w.endDate }], dimensions, metrics, limit: 100_000, ...more };
};

/**
 * The same spec through the rollups and the raw tables, where the rollups can answer it: as
 * asked, and without the metrics the rollups lack (newUsers; keyEvents, which the per-site
 * rollups lack). Returns the rollups that answered.
 */
const samePaths = async (query: Record<string, unknown>, site: OracleSite): Promise<string[]> => {
  const metrics = query["metrics"] as string[];
  const variants = [metrics, metrics.filter((m) => m !== "newUsers"), metrics.filter((m) => m !== "newUsers" && m !== "keyEvents")];
  const used: string[] = [];
  for (const list of variants.filter((v, i) => v.length > 0 && variants.findIndex((w) => w.join() === v.join()) === i)) {
    const parsed = parseReportSpec({ ...query, metrics: list });
    const fromRaw = await raw.compute(parsed);
    const rolled = await rollup.compute(parsed).catch((e: unknown) => e as Error);
    if (rolled instanceof Error) {
      expect(rolled.message).toMatch(/cannot be answered from the hourly rollups/);
      continue;
    }
    expect(site.timezone).not.toBe("Asia/Kolkata");
    expect(round(rolled.rows), JSON.stringify({ ...query, metrics: list })).toEqual(round(fromRaw.rows));
    expect(rolled.rowCount).toBe(fromRaw.rowCount);
    expect(rolled.totals).toEqual(fromRaw.totals);
    const compiled = compileReport(parsed, { database: "x", timezone: site.timezone, keyEvents: [], nowMs: Date.now(), source: "rollup" }).compiled;
    used.push(compiled.kind === "table" ? compiled.path : compiled.kind);
  }
  return [...new Set(used)].sort();
};

// Which rollups answer a report by one dimension with all its metrics but newUsers, and without keyEvents:
// for time alone, those by combination and per site; for these, those by combination and by one dimension.
const TIME = new Set(["date", "hour", "dateHour", "week", "month"]);
const IN_ROLLUPS = new Set(["pagePath", "landingPage", "hostName", "eventName", "sessionSource", "sessionMedium", "sessionCampaignName", "sessionDefaultChannelGroup", "country", "deviceCategory", "browser", "operatingSystem"]);
const rollupsFor = (dimension: string, site: OracleSite): string[] => {
  if (site.timezone === "Asia/Kolkata") return [];
  if (TIME.has(dimension)) return ["rollup", "site-rollup"];
  if (!IN_ROLLUPS.has(dimension)) return [];
  // Session metrics have no keyEvents to leave out, so only the rollups by one dimension are asked.
  return SESSION_ONLY.has(dimension) ? ["dimension-rollup"] : ["dimension-rollup", "rollup"];
};

describe.each(SITES.map((s) => [s.id, s] as const))("site %s", (_id, site) => {
  const oracle = () => data.get(site.id) as OracleData;

  it("has a dataset worth checking", () => {
    const d = oracle();
    expect(d.sessions.length).toBeGreaterThan(40);
    expect(d.sessions.filter((s) => !s.first).length).toBeGreaterThan(5);
    expect(sent.filter((e) => e.site === site.id && e.bot).length).toBeGreaterThan(0);
    expect(new Set(d.events.map((e) => localDate(e.ts, site.timezone))).size).toBeGreaterThanOrEqual(6);
  });

  it("agrees on every metric in total", async () => {
    const w = whole(site);
    const a = await ask(spec(site, [], ALL_METRICS, { metricAggregations: ["TOTAL"] }));
    const truth = report(oracle(), { dimensions: [], metrics: ALL_METRICS, from: w.from, to: w.to });
    expect(round(a.rows)).toEqual(round(truth));
    expect(round(a.done?.["totals"] as Row[])).toEqual(round(truth));
    expect(a.done?.["rowCount"]).toBe(1);
    expect(await samePaths(spec(site, [], ALL_METRICS, { metricAggregations: ["TOTAL"] }), site)).toEqual(rollupsFor("date", site));
  });

  it.each(DIMENSIONS)("agrees on every metric by %s, and the rollups agree with the raw tables", async (dimension) => {
    const w = whole(site);
    const metrics = metricsFor([dimension]);
    const truth = report(oracle(), { dimensions: [dimension], metrics, from: w.from, to: w.to });
    expect(truth.length).toBeGreaterThan(0);
    const a = await ask(spec(site, [dimension], metrics));
    expect(round(a.rows)).toEqual(round(truth));
    expect(a.done?.["rowCount"]).toBe(truth.length);
    expect(await samePaths(spec(site, [dimension], metrics), site)).toEqual(rollupsFor(dimension, site));
  });

  it.each([
    [["date", "sessionDefaultChannelGroup"]],
    [["country", "deviceCategory"]],
    [["landingPage", "sessionSource", "sessionMedium"]],
    [["eventName", "param:plan"]],
    [["week", "browser", "operatingSystem"]],
  ])("agrees by the combination %j", async (dims) => {
    const w = whole(site);
    const metrics = metricsFor(dims);
    const truth = report(oracle(), { dimensions: dims, metrics, from: w.from, to: w.to });
    const a = await ask(spec(site, dims, metrics));
    expect(round(a.rows)).toEqual(round(truth));
    await samePaths(spec(site, dims, metrics), site);
  });

  const lower = (v: string | undefined): string => (v ?? "").toLowerCase();
  const FILTERS: [string, string[], Record<string, unknown>, Predicate, string[]][] = [
    ["begins with, case-insensitive", ["pagePath"], { filter: { fieldName: "pagePath", stringFilter: { matchType: "BEGINS_WITH", value: "/DOCS" } } }, (v) => lower(v("pagePath")).startsWith("/docs"), ["pagePath"]],
    ["exact and case-sensitive", ["date"], { filter: { fieldName: "pagePath", stringFilter: { matchType: "EXACT", value: "/Pricing", caseSensitive: true } } }, (v) => v("pagePath") === "/Pricing", ["pagePath"]],
    ["a value with a quote", ["eventName"], { filter: { fieldName: "pagePath", stringFilter: { matchType: "CONTAINS", value: "o'brien" } } }, (v) => lower(v("pagePath")).includes("o'brien"), ["pagePath"]],
    ["in a list, for sessions", ["sessionSource"], { filter: { fieldName: "country", inListFilter: { values: ["GB", "nl"] } } }, (v) => ["gb", "nl"].includes(lower(v("country"))), ["country"]],
    ["a full regular expression, negated", ["pagePath"], { notExpression: { filter: { fieldName: "pagePath", stringFilter: { matchType: "FULL_REGEXP", value: "/docs/[ab]|/" } } } }, (v) => !/^(?:\/docs\/[ab]|\/)$/i.test(v("pagePath") ?? ""), ["pagePath"]],
    ["an or of an event and a property", ["date"], { orGroup: { expressions: [{ filter: { fieldName: "eventName", stringFilter: { value: "purchase" } } }, { filter: { fieldName: "param:file", stringFilter: { matchType: "ENDS_WITH", value: ".PDF" } } }] } }, (v) => lower(v("eventName")) === "purchase" || lower(v("param:file")).endsWith(".pdf"), ["eventName", "param:file"]],
    ["hours between, on session metrics", ["landingPage"], { filter: { fieldName: "hour", betweenFilter: { fromValue: 0, toValue: 5 } } }, (v) => Number(v("hour")) <= 5, ["hour"]],
    ["an and with a partial regular expression", ["deviceCategory"], { andGroup: { expressions: [{ filter: { fieldName: "sessionSource", stringFilter: { matchType: "PARTIAL_REGEXP", value: "goo" } } }, { notExpression: { filter: { fieldName: "browser", emptyFilter: {} } } }] } }, (v) => lower(v("sessionSource")).includes("goo") && v("browser") !== "", ["sessionSource", "browser"]],
  ];
  it.each(FILTERS)("agrees with a dimension filter: %s", async (_what, dims, dimensionFilter, predicate, filterDimensions) => {
    const w = whole(site);
    const metrics = metricsFor([...dims, ...filterDimensions]);
    const truth = report(oracle(), { dimensions: dims, metrics, from: w.from, to: w.to, filter: predicate, filterDimensions });
    const a = await ask(spec(site, dims, metrics, { dimensionFilter }));
    expect(round(a.rows)).toEqual(round(truth));
    await samePaths(spec(site, dims, metrics, { dimensionFilter }), site);
  });

  it("agrees with a metric filter", async () => {
    const w = whole(site);
    const metrics = ["sessions", "engagementRate"];
    const truth = report(oracle(), { dimensions: ["sessionSource", "date"], metrics, from: w.from, to: w.to }).filter((r) => Number(r["sessions"]) > 1 && Number(r["engagementRate"]) >= 0.5);
    const metricFilter = { andGroup: { expressions: [{ filter: { fieldName: "sessions", numericFilter: { operation: "GREATER_THAN", value: { int64Value: "1" } } } }, { filter: { fieldName: "engagementRate", numericFilter: { operation: "GREATER_THAN_OR_EQUAL", value: { doubleValue: 0.5 } } } }] } };
    const a = await ask(spec(site, ["sessionSource", "date"], metrics, { metricFilter }));
    expect(round(a.rows)).toEqual(round(truth));
    await samePaths(spec(site, ["sessionSource", "date"], metrics, { metricFilter }), site);
  });

  it("compares date ranges, with totals per range", async () => {
    const ranges = [
      { startDate: firstDay, endDate: addDays(firstDay, 2) },
      { startDate: addDays(firstDay, 3), endDate: addDays(firstDay, 6), name: "later" },
    ];
    const a = await ask({ site: site.id, dateRanges: ranges, dimensions: ["sessionDefaultChannelGroup"], metrics: ALL_METRICS, metricAggregations: ["TOTAL"] });
    const names = ["date_range_0", "later"];
    const truth = ranges.flatMap((r, i) => report(oracle(), { dimensions: ["sessionDefaultChannelGroup"], metrics: ALL_METRICS, from: r.startDate, to: r.endDate }).map((row) => ({ ...row, dateRange: names[i] as string })));
    const totals = ranges.flatMap((r, i) => report(oracle(), { dimensions: [], metrics: ALL_METRICS, from: r.startDate, to: r.endDate }).map((row) => ({ dateRange: names[i] as string, ...row })));
    expect(round(a.rows)).toEqual(round(truth));
    expect(round(a.done?.["totals"] as Row[])).toEqual(round(totals));
    await samePaths({ site: site.id, dateRanges: ranges, dimensions: ["sessionDefaultChannelGroup"], metrics: ALL_METRICS, metricAggregations: ["TOTAL"] }, site);
  });

  it("orders, pages and counts the rows before paging", async () => {
    const w = whole(site);
    const all = report(oracle(), { dimensions: ["pagePath"], metrics: ["eventCount", "activeUsers"], from: w.from, to: w.to });
    const sorted = [...all].sort((a, b) => Number(b["eventCount"]) - Number(a["eventCount"]) || (String(a["pagePath"]) < String(b["pagePath"]) ? -1 : 1));
    const a = await ask(spec(site, ["pagePath"], ["eventCount", "activeUsers"], { orderBys: [{ metric: { metricName: "eventCount" }, desc: true }], limit: 3, offset: 1 }));
    expect(a.rows).toEqual(sorted.slice(1, 4));
    expect(a.done?.["rowCount"]).toBe(all.length);
    const past = await ask(spec(site, ["pagePath"], ["eventCount"], { limit: 5, offset: 1000 }));
    expect(past.rows).toEqual([]);
    expect(past.done?.["rowCount"]).toBe(all.length);
    const byName = await ask(spec(site, ["pagePath"], ["eventCount"], { orderBys: [{ dimension: { dimensionName: "pagePath" }, desc: true }], limit: 2 }));
    expect(byName.rows.map((r) => r["pagePath"])).toEqual(all.map((r) => r["pagePath"]).reverse().slice(0, 2));
  });

  it("counts visitors for a page ordered by another metric as the raw tables do", async () => {
    const w = whole(site);
    const later = { startDate: addDays(firstDay, 3), endDate: addDays(firstDay, 10) };
    // Only the rows that make the page get their visitors counted (see compile-table.ts).
    const pages = spec(site, ["pagePath"], ["screenPageViews", "activeUsers"], { orderBys: [{ metric: { metricName: "screenPageViews" }, desc: true }], limit: 3, offset: 1, metricAggregations: ["TOTAL"] });
    const compared = spec(site, ["country", "deviceCategory"], ["sessions", "activeUsers"], {
      dateRanges: [{ startDate: w.startDate, endDate: w.endDate }, later],
      orderBys: [{ metric: { metricName: "sessions" }, desc: false }],
      metricFilter: { filter: { fieldName: "sessions", numericFilter: { operation: "GREATER_THAN", value: { int64Value: "0" } } } },
      limit: 4,
    });
    const filtered = spec(site, ["sessionSource"], ["eventCount", "visitors"], {
      orderBys: [{ metric: { metricName: "eventCount" }, desc: true }],
      dimensionFilter: { notExpression: { filter: { fieldName: "pagePath", stringFilter: { matchType: "BEGINS_WITH", value: "/docs" } } } },
      limit: 2,
    });
    const used: string[] = [];
    for (const q of [pages, compared, filtered]) used.push(...(await samePaths(q, site)));
    expect(new Set(used)).toEqual(new Set(site.timezone === "Asia/Kolkata" ? [] : ["dimension-rollup", "rollup"]));
    const truth = report(oracle(), { dimensions: ["pagePath"], metrics: ["screenPageViews", "activeUsers"], from: w.from, to: w.to });
    const a = await ask(pages);
    expect(a.rows).toEqual([...truth].sort((x, y) => Number(y["screenPageViews"]) - Number(x["screenPageViews"]) || (String(x["pagePath"]) < String(y["pagePath"]) ? -1 : 1)).slice(1, 4));
    expect(a.done?.["rowCount"]).toBe(truth.length);
  });

  it("agrees on funnels, per visitor and per session, within a window", async () => {
    const w = whole(site);
    const steps = [
      { name: "viewed", filterExpression: { filter: { fieldName: "eventName", stringFilter: { value: "pageview" } } } },
      { name: "docs", filterExpression: { filter: { fieldName: "pagePath", stringFilter: { matchType: "BEGINS_WITH", value: "/docs" } } } },
      { name: "converted", filterExpression: { filter: { fieldName: "eventName", inListFilter: { values: ["purchase", "signup"] } } } },
    ];
    const checks = [(e: SentEvent) => e.name === "pageview", (e: SentEvent) => new URL(e.url).pathname.startsWith("/docs"), (e: SentEvent) => e.name === "purchase" || e.name === "signup"];
    for (const [scope, windowMinutes] of [["visitor", 30 * 24 * 60], ["session", 24 * 60], ["visitor", 10]] as const) {
      const a = await ask({ site: site.id, kind: "funnel", dateRanges: [{ startDate: w.startDate, endDate: w.endDate }], steps, scope, windowMinutes });
      const reached = funnel(oracle(), w.from, w.to, checks, scope, windowMinutes * 60_000);
      expect(reached[0]).toBeGreaterThan(0);
      expect(a.rows.map((r) => r[scope === "visitor" ? "activeUsers" : "sessions"])).toEqual(reached);
      expect(a.rows.map((r) => r["funnelStepName"])).toEqual(["1. viewed", "2. docs", "3. converted"]);
    }
  });

  it("agrees on weekly retention", async () => {
    const w = whole(site);
    const a = await ask({ site: site.id, kind: "retention", dateRanges: [{ startDate: w.startDate, endDate: w.endDate }], weeks: 4 });
    const truth = retention(oracle(), w.from, w.to, localDate(Date.now(), site.timezone), 4);
    expect(truth.some((r) => r["week"] !== "0" && Number(r["activeUsers"]) > 0)).toBe(true);
    expect(round(a.rows)).toEqual(round(truth));
  });

  it("agrees on the realtime report of the last 30 minutes", async () => {
    for (const dims of [[], ["pagePath"], ["country"], ["sessionSource"]]) {
      const asked = Date.now();
      const a = await ask({ site: site.id, kind: "realtime", dimensions: dims, metrics: EVENT_METRICS });
      const truth = realtime(oracle(), asked, dims, EVENT_METRICS);
      expect(truth.length).toBeGreaterThan(0);
      expect(a.rows).toEqual(truth);
    }
    const byMinute = await ask({ site: site.id, kind: "realtime", dimensions: ["minutesAgo"], metrics: ["eventCount"] });
    const total = realtime(oracle(), Date.now(), [], ["eventCount"])[0]?.["eventCount"];
    expect(byMinute.rows.reduce((s, r) => s + Number(r["eventCount"]), 0)).toBe(total);
    for (const r of byMinute.rows) expect(Number(r["minutesAgo"])).toBeLessThanOrEqual(29);
  });
});

it("answers the first spec in UTC days as it always did", async () => {
  const site = SITES[0] as OracleSite;
  const w = whole(site);
  const a = await ask({ site: site.id, from: w.from, to: w.to, metrics: ["pageviews", "visitors", "sessions"], dimensions: ["date"] });
  const truth = report(data.get(site.id) as OracleData, { dimensions: ["date"], metrics: ["screenPageViews", "activeUsers", "sessions"], from: w.from, to: w.to });
  expect(a.rows).toEqual(truth.map((r) => ({ date: String(r["date"]).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3"), pageviews: r["screenPageViews"], visitors: r["activeUsers"], sessions: r["sessions"] })));
});

it("reads the rollups on every site whose days are whole hours, and the raw tables in Kolkata", async () => {
  const served = [];
  for (const site of SITES) served.push([site.id, await samePaths(spec(site, ["date", "country"], ["sessions", "activeUsers", "screenPageViews"]), site)]);
  expect(served).toEqual([
    ["utc", ["dimension-rollup"]],
    ["ny", ["dimension-rollup"]],
    ["kol", []],
    ["akl", ["dimension-rollup"]],
  ]);
});
