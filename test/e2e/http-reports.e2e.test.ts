import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startPulse, type RunningPulse } from "../../src/app/pulse.js";
import { loadConfig } from "../../src/config/config.js";
import { createToken, eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

let pulse: TestPulse;
let tokenA: string;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: "site-a,site-b" });
  tokenA = await createToken(inject("natsUrl"), pulse.namespace, ["site-a"]);
});
afterAll(async () => {
  await pulse?.dispose();
});

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const spec = (site: string): Record<string, unknown> => ({ site, from: day(-2), to: day(1), dimensions: ["date"] });

const post = async (path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(`${pulse.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
};
/** `token` null: no Authorization header. */
const run = (body: unknown, token: string | null = tokenA, path = "/api/v1/reports:run") =>
  post(path, typeof body === "string" ? body : JSON.stringify(body), token === null ? {} : { authorization: `Bearer ${token}` });

it("answers a report with the rows /ws gives for the same spec", async () => {
  const events = [0, 1, 2].map((i) => ({ id: `http-${i}`, name: "pageview", url: `https://a.example/${i}`, visitor: `hv${i % 2}`, ts: Date.now() - i * 86_400_000 }));
  expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events })).status).toBe(202);
  const answer = await eventually(() => run(spec("site-a")), (r) =>
      // Events and sessions are separate inserts: wait until both are in, so /ws sees the same answer.
      r.status === 200 && r.json["rowCount"] === 3 && (r.json["rows"] as Record<string, number>[]).every((row) => row["sessions"] === 1),
    20_000,
  );
  expect(answer.headers.get("content-type")).toBe("application/json");
  expect(answer.json).toMatchObject({ columns: ["date", "pageviews", "visitors", "sessions"], rowCount: 3 });
  expect(typeof answer.json["elapsedMs"]).toBe("number");
  expect((answer.json["rows"] as Record<string, number>[]).map((r) => r["pageviews"])).toEqual([1, 1, 1]);

  const client = await QueryClient.open(pulse.url, tokenA);
  try {
    const ws = await client.query("same", spec("site-a"));
    expect(ws.rows).toEqual(answer.json["rows"]);
    expect(ws.messages.find((m) => m["type"] === "rows")?.["columns"]).toEqual(answer.json["columns"]);
  } finally {
    client.close();
  }
});

it("answers the realtime report: events of the last 30 minutes, without saying its kind", async () => {
  const events = [0, 1].map((i) => ({ id: `rt-${i}`, name: "pageview", url: `https://a.example/rt`, visitor: `rt${i}`, ts: Date.now() - i * 60_000 }));
  expect((await postJson(`${pulse.url}/collect`, { site: "site-a", events })).status).toBe(202);
  const body = { site: "site-a", dimensions: ["pagePath"], metrics: ["activeUsers", "screenPageViews"], dimensionFilter: { filter: { fieldName: "pagePath", stringFilter: { value: "/rt" } } } };
  const answer = await eventually(() => run(body, tokenA, "/api/v1/reports:runRealtime"), (r) => r.status === 200 && r.json["rowCount"] === 1 && (r.json["rows"] as Record<string, number>[])[0]?.["screenPageViews"] === 2, 20_000);
  expect(answer.json["rows"]).toEqual([{ pagePath: "/rt", activeUsers: 2, screenPageViews: 2 }]);
  // The same body on :run is a runReport spec, which needs date ranges.
  expect((await run(body)).status).toBe(400);
});

it("answers 401 without a token or with a bad one, and 403 for another site whether or not it exists", async () => {
  for (const path of ["/api/v1/reports:run", "/api/v1/reports:runRealtime"]) {
    const none = await run(spec("site-a"), null, path);
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error: { code: "unauthorized" } });
    expect((await run(spec("site-a"), "pq_000000000000_notarealtokennotarealtokennotareal", path)).status).toBe(401);

    const existing = await run(spec("site-b"), tokenA, path);
    const missing = await run(spec("site-zz"), tokenA, path);
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(existing.json).toEqual({ error: { code: "forbidden", message: 'this token may not read site "site-b"' } });
    expect(missing.json).toEqual({ error: { code: "forbidden", message: 'this token may not read site "site-zz"' } });
  }
  // The token that may read site-b does.
  expect((await run(spec("site-b"), pulse.token)).status).toBe(200);
});

it("answers 400 for a bad spec or body and 413 for a huge body", async () => {
  const badMetric = await run({ ...spec("site-a"), metrics: ["bounces"] });
  expect(badMetric.status).toBe(400);
  expect(badMetric.json).toMatchObject({ error: { code: "invalid_query" } });
  expect((await run("{not json")).json).toMatchObject({ error: { code: "invalid_json" } });
  expect((await run("")).status).toBe(400);
  expect((await run([1, 2])).status).toBe(400);
  const huge = await run({ ...spec("site-a"), padding: "x".repeat(200_000) });
  expect(huge.status).toBe(413);
  expect(huge.json).toMatchObject({ error: { code: "body_too_large" } });
});

it("answers 503 from a process that does not own the store, and its /ws refuses subscriptions", async () => {
  const config = loadConfig({
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: "0",
    PULSE_DATA_DIR: pulse.dataDir,
    PULSE_NATS_URL: inject("natsUrl"),
    PULSE_NAMESPACE: pulse.namespace,
    PULSE_SITES: "site-a,site-b",
  });
  const edge: RunningPulse = await startPulse(config, ["edge"]);
  try {
    const res = await fetch(`${edge.url}/api/v1/reports:run`, { method: "POST", headers: { authorization: `Bearer ${tokenA}` }, body: JSON.stringify(spec("site-a")) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_serving");
    const client = await QueryClient.open(edge.url, tokenA);
    try {
      const sub = client.subscribe("s", spec("site-a"));
      await eventually(async () => sub.ended, (e) => e !== undefined, 10_000);
      expect(sub.ended).toMatchObject({ id: "s", type: "error", error: { code: "query_failed" } });
    } finally {
      client.close();
    }
  } finally {
    await edge.stop();
  }
});
