import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createToken, eventually, postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { QueryClient, type LiveAnswers } from "../harness/ws-client.js";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: "site-a,site-b", env: { PULSE_MAX_QUERIES_PER_TOKEN: "3" } });
});
afterAll(async () => {
  await pulse?.dispose();
});

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const totals = (site: string): Record<string, unknown> => ({ site, from: day(-1), to: day(1), metrics: ["pageviews", "visitors"] });
const pageviews = (a: { rows: readonly Record<string, string | number>[] } | undefined): number => Number(a?.rows[0]?.["pageviews"] ?? 0);
const watermarks = (s: LiveAnswers): number[] => s.answers.map((a) => Date.parse(String(a.done["watermark"])));

let n = 0;
/** Sends one pageview and returns the time its 202 arrived. */
const send = async (site: string): Promise<number> => {
  const r = await postJson(`${pulse.url}/collect`, { site, name: "pageview", url: `https://${site}.example/p${n}`, visitor: `live-${n++}` });
  expect(r.status).toBe(202);
  return Date.now();
};

/** Waits until a one-off query sees `count` pageviews for `site`. */
const queryable = async (client: QueryClient, site: string, count: number): Promise<void> => {
  await eventually(async () => pageviews(await client.query(`check-${n++}`, totals(site))), (v) => v === count, 20_000);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it("pushes a new answer after an acked event changes it, with a watermark past the ack, nothing for other sites' traffic, and nothing after unsubscribe", async () => {
  const client = await QueryClient.open(pulse.url, pulse.token);
  const checker = await QueryClient.open(pulse.url, pulse.token);
  try {
    const sub = client.subscribe("live-a", totals("site-a"));
    await eventually(async () => sub.answers.length, (k) => k === 1, 10_000);
    expect(sub.answers[0]?.done).toMatchObject({ type: "done", update: 0, rowCount: 0 });

    // Each acked event for site-a brings an answer that counts it, complete up to after its ack.
    for (let i = 1; i <= 3; i++) {
      const ackedAt = await send("site-a");
      await eventually(async () => pageviews(sub.answers.at(-1)), (v) => v === i, 10_000);
      const answer = sub.answers.at(-1);
      expect(answer?.done["update"]).toBe(sub.answers.length - 1);
      expect(Date.parse(String(answer?.done["watermark"]))).toBeGreaterThanOrEqual(ackedAt);
    }
    // No answer repeats the one before it.
    for (let i = 1; i < sub.answers.length; i++) expect(sub.answers[i]?.rows).not.toEqual(sub.answers[i - 1]?.rows);
    const marks = watermarks(sub);
    expect([...marks].sort((a, b) => a - b)).toEqual(marks);

    // Traffic for site-b: once it is queryable, and for 2 s after, site-a's subscription hears nothing.
    const before = sub.answers.length;
    for (let i = 0; i < 5; i++) await send("site-b");
    await queryable(checker, "site-b", 5);
    await sleep(2000);
    expect(sub.answers.length).toBe(before);
    expect(sub.ended).toBeUndefined();

    // After unsubscribe nothing more arrives, even when site-a changes.
    expect((await client.unsubscribe("live-a")).messages).toEqual([{ id: "live-a", type: "cancelled" }]);
    await send("site-a");
    await queryable(checker, "site-a", 4);
    await sleep(1000);
    expect(sub.answers.length).toBe(before);
    expect(client.received.filter((m) => m["id"] === "live-a").at(-1)).toEqual({ id: "live-a", type: "cancelled" });
  } finally {
    client.close();
    checker.close();
  }
});

it("refuses a subscription to a site the token may not read, existing or not, with the same answer", async () => {
  const tokenA = await createToken(inject("natsUrl"), pulse.namespace, ["site-a"]);
  const client = await QueryClient.open(pulse.url, tokenA);
  try {
    const b = client.subscribe("b", totals("site-b"));
    const nowhere = client.subscribe("x", totals("no-such-site"));
    await eventually(async () => [b.ended, nowhere.ended], (e) => e.every((x) => x !== undefined), 10_000);
    expect(b.ended).toEqual({ id: "b", type: "error", error: { code: "forbidden", message: 'this token may not read site "site-b"' } });
    expect(nowhere.ended).toEqual({ id: "x", type: "error", error: { code: "forbidden", message: 'this token may not read site "no-such-site"' } });
    expect(b.answers).toEqual([]);
  } finally {
    client.close();
  }
});

it("limits queries plus subscriptions per token, over every socket of that token", async () => {
  const token = await createToken(inject("natsUrl"), pulse.namespace, ["site-a", "site-b"]);
  const one = await QueryClient.open(pulse.url, token);
  const two = await QueryClient.open(pulse.url, token);
  // Another token has its own slots.
  const other = await QueryClient.open(pulse.url, pulse.token);
  try {
    const subs = [one.subscribe("s1", totals("site-a")), one.subscribe("s2", totals("site-b")), two.subscribe("s3", totals("site-a"))];
    await eventually(async () => subs.map((s) => s.answers.length), (k) => k.every((x) => x >= 1), 10_000);
    const refused = two.subscribe("s4", totals("site-a"));
    await eventually(async () => refused.ended, (e) => e !== undefined, 10_000);
    expect(refused.ended).toMatchObject({ id: "s4", type: "error", error: { code: "too_many_queries" } });
    expect((await one.query("q1", totals("site-a"))).error?.code).toBe("too_many_queries");
    const http = await fetch(`${pulse.url}/api/v1/reports:run`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(totals("site-a")) });
    expect(http.status).toBe(429);
    expect(((await http.json()) as { error: { code: string } }).error.code).toBe("too_many_queries");
    expect(http.headers.get("retry-after")).toBe("1");
    expect((await other.query("q-other", totals("site-a"))).error).toBeUndefined();

    // Ending a subscription frees its slot; so does closing a socket.
    await one.unsubscribe("s1");
    expect((await one.query("q2", totals("site-a"))).error).toBeUndefined();
    two.close();
    await eventually(async () => (await one.query(`q3-${n++}`, totals("site-a"))).error?.code, (c) => c === undefined, 10_000);
    const again = one.subscribe("s5", totals("site-a"));
    const again2 = one.subscribe("s6", totals("site-a"));
    await eventually(async () => [again.answers.length, again2.answers.length], (k) => k.every((x) => x >= 1), 10_000);
    expect(again2.ended).toBeUndefined();
  } finally {
    one.close();
    two.close();
    other.close();
  }
});
