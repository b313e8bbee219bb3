import { afterAll, beforeAll, expect, it } from "vitest";
import { BROWSER_HEADERS, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", env: { PULSE_MAX_BODY_BYTES: "4096" } });
});
afterAll(() => pulse?.dispose());

const errorOf = (json: Record<string, unknown>): { code: string; message: string } => json["error"] as { code: string; message: string };
const good = (id: string) => ({ name: "pageview", url: `https://a.example/${id}`, visitor: "bad-input-visitor", id });

it("refuses a body that is not JSON", async () => {
  const r = await postJson(`${pulse.url}/collect`, "{not json");
  expect(r.status).toBe(400);
  expect(errorOf(r.json).code).toBe("invalid_json");
  expect(errorOf(r.json).message).toMatch(/not valid JSON/);
});

it("refuses an unknown site", async () => {
  const r = await postJson(`${pulse.url}/collect`, { site: "no-such-site", ...good("x") });
  expect(r.status).toBe(404);
  expect(errorOf(r.json)).toEqual({ code: "unknown_site", message: 'site "no-such-site" is not registered' });
});

it("names a missing field", async () => {
  const r = await postJson(`${pulse.url}/collect`, { site: "site-a", name: "pageview", visitor: "v" });
  expect(r.status).toBe(400);
  expect(errorOf(r.json).code).toBe("no_valid_events");
  expect(r.json["rejected"]).toEqual([{ index: 0, code: "missing_field", message: '"url" is required' }]);
});

it("refuses a body over the size limit, whether announced or streamed", async () => {
  const big = JSON.stringify({ site: "site-a", ...good("big"), props: { pad: "x".repeat(5000) } });
  const announced = await postJson(`${pulse.url}/collect`, big);
  expect(announced.status).toBe(413);
  expect(errorOf(announced.json).code).toBe("body_too_large");
  // Without a Content-Length the limit is enforced while reading.
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(big));
      c.close();
    },
  });
  const res = await fetch(`${pulse.url}/collect`, { method: "POST", headers: BROWSER_HEADERS, body: stream, duplex: "half" } as RequestInit);
  expect(res.status).toBe(413);
  expect(errorOf((await res.json()) as Record<string, unknown>).code).toBe("body_too_large");
});

it("keeps the valid events of a batch that holds one bad event", async () => {
  const r = await postJson(`${pulse.url}/collect`, { site: "site-a", events: [good("ok-1"), { name: "pageview", url: "not a url", visitor: "v" }, good("ok-2")] });
  expect(r.status).toBe(202);
  expect(r.json["accepted"]).toBe(2);
  expect(r.json["ids"]).toEqual(["ok-1", "ok-2"]);
  expect(r.json["rejected"]).toEqual([{ index: 1, code: "invalid_url", message: '"url" is not an absolute URL: "not a url"' }]);
  await expect.poll(async () => (await pulse.log.readVisitor("site-a", "bad-input-visitor", 0)).map((e) => e.id), { timeout: 20_000 }).toEqual(["ok-1", "ok-2"]);
  const client = await QueryClient.open(pulse.url, pulse.token);
  try {
    const today = new Date().toISOString().slice(0, 10);
    await expect
      .poll(async () => (await client.query(`q${Math.random()}`, { site: "site-a", from: today, to: today })).rows, { timeout: 20_000 })
      .toEqual([{ pageviews: 2, visitors: 1, sessions: 1 }]);
  } finally {
    client.close();
  }
});

it("answers bad WebSocket messages with an error carrying the request id", async () => {
  const client = await QueryClient.open(pulse.url, pulse.token);
  try {
    const unknownMetric = await client.query("m1", { site: "site-a", from: "2026-01-01", to: "2026-01-02", metrics: ["revenue"] });
    expect(unknownMetric.error?.code).toBe("invalid_query");
    expect(unknownMetric.error?.message).toMatch(/unknown metric "revenue"/);
    const unknownSite = await client.query("m2", { site: "elsewhere", from: "2026-01-01", to: "2026-01-02" });
    expect(unknownSite.error?.code).toBe("forbidden");
    client.sendRaw("{oops");
    await expect.poll(() => client.received.at(-1)).toEqual({ id: null, type: "error", error: { code: "invalid_json", message: "the message is not valid JSON" } });
  } finally {
    client.close();
  }
});

it("answers unknown routes with a JSON 404", async () => {
  const r = await postJson(`${pulse.url}/nope`, {});
  expect(r.status).toBe(404);
  expect(errorOf(r.json).code).toBe("not_found");
});
