import { connect, type NatsConnection } from "@nats-io/transport-node";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { SiteRegistry } from "../../infra/nats/registry.js";
import { natsNames } from "../../infra/nats/streams.js";
import { createToken, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

let pulse: TestPulse;
let nc: NatsConnection;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream" });
  nc = await connect({ servers: inject("natsUrl") });
});
afterAll(async () => {
  await nc?.close();
  await pulse?.dispose();
});

const query = { from: "2026-01-01", to: "2026-12-31" };

const refusedUpgrade = (url: string, headers: Record<string, string>): Promise<number> =>
  new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { headers });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("error", () => undefined);
  });

it("a query token for one site is refused for another, and a bad or revoked token gets no socket", async () => {
  const tokenA = await createToken(inject("natsUrl"), pulse.namespace, ["site-a"]);
  const client = await QueryClient.open(pulse.url, tokenA);
  try {
    expect((await client.query("a", { site: "site-a", ...query })).error).toBeUndefined();
    const b = await client.query("b", { site: "site-b", ...query });
    expect(b.error).toEqual({ code: "forbidden", message: 'this token may not read site "site-b"' });
    expect(b.rows).toEqual([]);
  } finally {
    client.close();
  }
  // Without a token a socket opens, for tracking only: queries are refused.
  expect(await refusedUpgrade(pulse.url, {})).toBe(101);
  expect(await refusedUpgrade(pulse.url, { authorization: "Bearer pq_000000000000_notarealtokennotarealtokennotareal" })).toBe(401);

  const registry = await SiteRegistry.open(nc, natsNames(pulse.namespace).registryBucket);
  try {
    const id = /^pq_([0-9a-f]{12})_/.exec(tokenA)?.[1] ?? "";
    expect(await registry.revokeToken(id)).toBe(true);
  } finally {
    registry.close();
  }
  // The edge's registry follows the change through its KV watch.
  await expect.poll(() => refusedUpgrade(pulse.url, { authorization: `Bearer ${tokenA}` }), { timeout: 10_000 }).toBe(401);
});

it("takes events over a tokenless socket with op track, and answers its queries unauthorized", async () => {
  const ws = new WebSocket(`${pulse.url.replace(/^http/, "ws")}/ws`, { headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" } });
  const replies: Record<string, unknown>[] = [];
  ws.on("message", (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((r) => ws.once("open", r));
  ws.send(JSON.stringify({ op: "track", id: "t1", site: "site-a", events: [{ id: "ws-1", name: "pageview", url: "https://a.example/ws", visitor: "ws-visitor" }, { name: "pageview" }] }));
  ws.send(JSON.stringify({ op: "query", id: "q1", query: { site: "site-a", from: "2026-01-01", to: "2026-01-02" } }));
  await expect.poll(() => replies.length, { timeout: 10_000 }).toBe(2);
  ws.close();
  expect(replies.find((r) => r["id"] === "t1")).toMatchObject({ type: "tracked", accepted: 1, ids: ["ws-1"], rejected: [{ index: 1, code: "missing_field" }] });
  expect(replies.find((r) => r["id"] === "q1")).toMatchObject({ type: "error", error: { code: "unauthorized" } });
  await expect.poll(async () => (await pulse.log.readVisitor("site-a", "ws-visitor", 0)).map((e) => e.id), { timeout: 20_000 }).toEqual(["ws-1"]);
});

it("a site with allowed hostnames refuses events from other hosts", async () => {
  const registry = await SiteRegistry.open(nc, natsNames(pulse.namespace).registryBucket);
  try {
    await registry.addSite({ id: "strict", hostnames: ["shop.example"], timezone: "UTC", sessionTimeoutMs: 1_800_000, measurementId: "" });
  } finally {
    registry.close();
  }
  const send = (url: string) => postJson(`${pulse.url}/collect`, { site: "strict", name: "pageview", url, visitor: "h1" });
  await expect.poll(async () => (await send("https://shop.example/ok")).status, { timeout: 10_000 }).toBe(202);
  const other = await send("https://evil.example/");
  expect(other.status).toBe(400);
  expect((other.json["rejected"] as { code: string }[])[0]?.code).toBe("hostname_not_allowed");
});

it("a site's own session timeout decides its sessions", async () => {
  const registry = await SiteRegistry.open(nc, natsNames(pulse.namespace).registryBucket);
  try {
    await registry.addSite({ id: "brief", hostnames: [], timezone: "UTC", sessionTimeoutMs: 60_000, measurementId: "" });
  } finally {
    registry.close();
  }
  const t0 = Date.now() - 3_600_000;
  // Five minutes apart: one session under the default 30 minutes, two under this site's one minute.
  const events = [0, 5].map((m) => ({ id: `brief-${m}`, name: "pageview", url: "https://brief.example/", visitor: "b1", ts: t0 + m * 60_000 }));
  await expect.poll(async () => (await postJson(`${pulse.url}/collect`, { site: "brief", events })).status, { timeout: 10_000 }).toBe(202);
  const store = pulse.store;
  if (!store) throw new Error("the test process owns the store");
  await expect
    .poll(async () => Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.sessions FINAL WHERE site = 'brief'`, {}))[0]?.n), { timeout: 20_000 })
    .toBe(2);
});
