import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createToken, eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

/**
 * Acceptance 3 of the reports: a token for site A reads nothing of site B through any report
 * kind, and field names and values full of SQL metacharacters give correct answers or an
 * invalid_query error, never an error that shows SQL.
 */

const EVIL_PATH = "/o'brien\\x;--\"`{site:String}ü";
const EVIL_NOTE = "'; DROP TABLE events; -- \\' {site:String} ) OR 1=1";
const EVIL_KEY = "we'ird key\\\";--";
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const RANGE = [{ startDate: DAY, endDate: DAY }];
const TS = Date.parse(`${DAY}T12:00:00Z`);

let pulse: TestPulse;
let a: QueryClient;

beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream" });
  a = await QueryClient.open(pulse.url, await createToken(inject("natsUrl"), pulse.namespace, ["site-a"]));
  const event = (site: string, i: number, extra: Record<string, unknown> = {}) => ({ id: `${site}-${i}`, visitor: `${site}-v'${i}`, name: "pageview", url: `https://${site}.example/plain`, ts: TS + i * 1000, ...extra });
  for (const site of ["site-a", "site-b"]) {
    const r = await postJson(`${pulse.url}/collect`, {
      site,
      events: [
        event(site, 0, { url: `https://${site}.example${encodeURI(EVIL_PATH)}` }),
        event(site, 1, { name: "note", props: { note: EVIL_NOTE, [EVIL_KEY]: "{site:String}" } }),
        event(site, 2),
        ...(site === "site-b" ? [event(site, 3), event(site, 4)] : []),
      ],
    });
    expect(r.status).toBe(202);
  }
  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  await eventually(async () => Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.events FINAL`, {}))[0]?.n), (n) => n === 8);
});
afterAll(async () => {
  a?.close();
  await pulse?.dispose();
});

let n = 0;
const ask = (query: Record<string, unknown>) => a.query(`s${n++}`, query);

/** An error a client may see: a code and a message that quotes no SQL. */
const expectNoSql = (error: { code: string; message: string } | undefined): void => {
  expect(error).toBeDefined();
  for (const word of ["FINAL", "GROUP BY", "toDateTime64", "SETTINGS", pulse.namespace, "Code:", "DB::"]) expect(error?.message).not.toContain(word);
};

describe("a token for site A", () => {
  const kinds: [string, Record<string, unknown>][] = [
    ["the first spec", { from: DAY, to: DAY }],
    ["runReport", { dateRanges: RANGE, metrics: ["eventCount"] }],
    ["a realtime report", { kind: "realtime", metrics: ["eventCount"] }],
    ["a funnel", { kind: "funnel", dateRanges: RANGE, steps: [{ filterExpression: { filter: { fieldName: "eventName", stringFilter: { value: "pageview" } } } }, { filterExpression: { filter: { fieldName: "eventName", stringFilter: { value: "note" } } } }] }],
    ["a retention report", { kind: "retention", dateRanges: RANGE }],
  ];

  it.each(kinds)("reads site A with %s", async (_what, query) => {
    const r = await ask({ site: "site-a", ...query });
    expect(r.error).toBeUndefined();
  });

  it.each(kinds)("cannot read site B with %s, nor an unknown site, nor B under another spelling", async (_what, query) => {
    for (const site of ["site-b", "nowhere", "site-b ", "SITE-B", "site-a' OR site = 'site-b", "site-a\u0000"]) {
      const r = await ask({ ...query, site });
      expect(r.error?.code, site).toBe("forbidden");
      expect(r.rows).toEqual([]);
    }
  });

  it("never sees site B's events in its own answers", async () => {
    const r = await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount", "activeUsers"], metricAggregations: ["TOTAL"] });
    expect(r.rows).toEqual([{ eventCount: 3, activeUsers: 3 }]);
    const filtered = await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "hostName", stringFilter: { value: "site-b.example" } } } });
    expect(filtered.rows).toEqual([]);
  });
});

describe("metacharacters", () => {
  const NAMES = ["pagePath'; DROP TABLE events; --", "pagePath\\", "{site:String}", "d0", "m0", "1) OR (1=1", "pagePath`", "ü", "param", "param:", "date\u0000", "a".repeat(5000)];

  it.each(NAMES.map((x) => [x]))("refuses the field name %j as invalid_query without SQL", async (name) => {
    for (const query of [
      { dateRanges: RANGE, dimensions: [name], metrics: ["eventCount"] },
      { dateRanges: RANGE, metrics: [name] },
      { dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: name, stringFilter: { value: "x" } } } },
      { dateRanges: RANGE, metrics: ["eventCount"], metricFilter: { filter: { fieldName: name, numericFilter: { operation: "EQUAL", value: 1 } } } },
      { dateRanges: RANGE, metrics: ["eventCount"], orderBys: [{ dimension: { dimensionName: name } }] },
      { kind: "realtime", dimensions: [name], metrics: ["eventCount"] },
      { kind: "funnel", dateRanges: RANGE, steps: [{ filterExpression: { filter: { fieldName: name, emptyFilter: {} } } }, { filterExpression: { filter: { fieldName: "eventName", emptyFilter: {} } } }] },
    ]) {
      const r = await ask({ site: "site-a", ...query });
      expect(r.error?.code, JSON.stringify(query).slice(0, 200)).toBe("invalid_query");
      expectNoSql(r.error);
    }
  });

  it("finds stored values full of metacharacters exactly, and nothing for near misses", async () => {
    const count = async (fieldName: string, stringFilter: Record<string, unknown>) =>
      (await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName, stringFilter } } })).rows[0]?.["eventCount"] ?? 0;
    const path = new URL(`https://x${encodeURI(EVIL_PATH)}`).pathname;
    expect(await count("pagePath", { value: path, caseSensitive: true })).toBe(1);
    // Stored as the URL holds it: the backslash and double quote percent-encoded, the single quote not.
    expect(path).toContain("o'brien%5Cx;--%22");
    expect(await count("pagePath", { matchType: "CONTAINS", value: "O'BRIEN%5cX;--%22" })).toBe(1);
    expect(await count("param:note", { value: EVIL_NOTE, caseSensitive: true })).toBe(1);
    expect(await count(`param:${EVIL_KEY}`, { value: "{site:String}" })).toBe(1);
    expect(await count("param:note", { matchType: "BEGINS_WITH", value: "'; DROP" })).toBe(1);
    for (const miss of ["' OR '1'='1", "\\", "{site:String}", "%", "_", ".*", "'; --"]) expect(await count("param:note", { value: miss })).toBe(0);
    // Regular expressions are values too: a pattern of metacharacters is matched, not executed.
    expect(await count("param:note", { matchType: "PARTIAL_REGEXP", value: "DROP TABLE events; -- \\\\' \\{site:String\\}" })).toBe(1);
    expect(await count("param:note", { matchType: "FULL_REGEXP", value: "'.*1=1" })).toBe(1);
  });

  it("groups by a property whose name and values hold metacharacters", async () => {
    const r = await ask({ site: "site-a", dateRanges: RANGE, dimensions: [`param:${EVIL_KEY}`, "param:note"], metrics: ["eventCount"] });
    expect(r.error).toBeUndefined();
    expect(r.rows).toEqual([
      { [`param:${EVIL_KEY}`]: "(not set)", "param:note": "(not set)", eventCount: 2 },
      { [`param:${EVIL_KEY}`]: "{site:String}", "param:note": EVIL_NOTE, eventCount: 1 },
    ]);
  });

  it("answers a regular expression the store cannot compile with an error that quotes no SQL", async () => {
    // Valid in JavaScript, refused by RE2: \Z and a repeat above 1000.
    for (const value of ["a\\Z", "x{1001}"]) {
      const r = await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "pagePath", stringFilter: { matchType: "PARTIAL_REGEXP", value } } } });
      expect(r.error?.code).toBe("query_failed");
      expect(r.error?.message).toBe("query: the report could not be computed");
    }
    const broken = await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "pagePath", stringFilter: { matchType: "FULL_REGEXP", value: "((" } } } });
    expect(broken.error?.code).toBe("invalid_query");
    expectNoSql(broken.error);
  });

  it("takes a NUL or unpaired surrogate in a value without leaking anything", async () => {
    for (const value of ["a\u0000b", "\ud800", "\u202e"]) {
      const r = await ask({ site: "site-a", dateRanges: RANGE, metrics: ["eventCount"], dimensionFilter: { filter: { fieldName: "param:note", stringFilter: { value } } } });
      if (r.error) expectNoSql(r.error);
      else expect(r.rows).toEqual([]);
    }
  });
});
