import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { startPulse, type RunningPulse } from "../../src/app/pulse.js";
import { loadConfig } from "../../src/config/config.js";
import { BROWSER_HEADERS, uniqueNamespace } from "../harness/pulse.js";

const SITE = "site-a";

const configFor = (dataDir: string, env: Record<string, string>) =>
  loadConfig({
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: "0",
    PULSE_DATA_DIR: dataDir,
    PULSE_NATS_URL: inject("natsUrl"),
    PULSE_NAMESPACE: uniqueNamespace(),
    PULSE_SITES: SITE,
    ...env,
  });

interface Outcome {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
}

/** Sends two events a request, keeping every answer and the ids of acknowledged events. */
const client = (url: string) => {
  const acked = new Set<string>();
  const outcomes: Outcome[] = [];
  let n = 0;
  const send = async (): Promise<Outcome> => {
    const ids = [`o${n}-0`, `o${n}-1`];
    const visitor = `v${n % 7}`;
    n++;
    const res = await fetch(`${url}/collect`, {
      method: "POST",
      headers: BROWSER_HEADERS,
      body: JSON.stringify({ site: SITE, events: ids.map((id) => ({ id, name: "pageview", url: `https://a.example/${id}`, visitor })) }),
    });
    const body = (await res.json()) as { error?: { code: string } };
    if (res.status === 202) for (const id of ids) acked.add(id);
    const outcome = { status: res.status, retryAfter: res.headers.get("retry-after"), code: body.error?.code };
    outcomes.push(outcome);
    return outcome;
  };
  const sendUntil = async (done: (o: Outcome) => boolean, timeoutMs: number): Promise<Outcome> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const o = await send();
      if (done(o)) return o;
      if (Date.now() > deadline) throw new Error(`no such answer within ${timeoutMs} ms; answers so far: ${JSON.stringify(outcomes.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { acked, outcomes, send, sendUntil };
};

/**
 * Overload provoked for real: the edge runs without a worker, so the ingest backlog only grows
 * until its oldest batch is older than the limit. Then a worker starts, drains it, and the edge
 * must take requests again. Every acknowledged event must be in the log, and no refused one.
 */
it("sheds with 503 and Retry-After while the workers are behind, loses nothing acked, and takes requests again once they catch up", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-overload-"));
  // Only the backlog is under test here; a busy test machine must not add loop-delay refusals.
  const config = configFor(dataDir, { PULSE_MAX_INGEST_AGE: "1s", PULSE_MAX_LOOP_DELAY: "0" });
  const edge = await startPulse(config, ["edge"]);
  let worker: RunningPulse | undefined;
  const { acked, outcomes, send, sendUntil } = client(edge.url);
  try {
    // Nothing is processed, so the oldest batch ages past 1 s and the edge starts refusing.
    expect((await send()).status).toBe(202);
    const refused = await sendUntil((o) => o.status === 503, 20_000);
    expect(refused.code).toBe("backlog_age");
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    // Still refusing a moment later: shedding holds while the backlog stays.
    await new Promise((r) => setTimeout(r, 600));
    expect((await send()).status).toBe(503);
    const ackedWhileStalled = acked.size;

    // A worker catches up; the edge takes requests again.
    worker = await startPulse(config, ["worker"]);
    await sendUntil((o) => o.status === 202, 30_000);
    expect(acked.size).toBeGreaterThan(ackedWhileStalled);
    expect(outcomes.every((o) => o.status === 202 || (o.status === 503 && /^\d+$/.test(o.retryAfter ?? "")))).toBe(true);

    // Every acknowledged event reaches the log, and nothing refused does.
    await expect.poll(() => edge.log.count(SITE), { timeout: 30_000, interval: 250 }).toBe(acked.size);
    const visitors = Array.from({ length: 7 }, (_, i) => `v${i}`);
    const logged = new Set<string>();
    for (const v of visitors) for (const e of await edge.log.readVisitor(SITE, v, 0)) logged.add(e.id);
    expect([...acked].filter((id) => !logged.has(id))).toEqual([]);
    expect(logged.size).toBe(acked.size);
  } finally {
    await worker?.stop();
    await edge.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

it("sheds with 503 loop_delay and Retry-After 1 while the edge's event loop is saturated, and takes requests again once it is not", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-overload-"));
  const edge = await startPulse(configFor(dataDir, { PULSE_MAX_INGEST_AGE: "0", PULSE_MAX_LOOP_DELAY: "20ms" }), ["edge"]);
  const { send, sendUntil } = client(edge.url);
  // The edge shares this process's event loop: hold it busy 100 ms at a time, as a flood of work would.
  const stall = setInterval(() => {
    const until = Date.now() + 100;
    while (Date.now() < until);
  }, 1);
  try {
    const refused = await sendUntil((o) => o.status === 503, 20_000);
    expect(refused).toEqual({ status: 503, retryAfter: "1", code: "loop_delay" });
    clearInterval(stall);
    await sendUntil((o) => o.status === 202, 20_000);
    expect((await send()).status).toBe(202);
  } finally {
    clearInterval(stall);
    await edge.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

it("sheds with 503 memory and Retry-After 5 while the process is over its memory limit", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-overload-"));
  // Any process is over 1 MiB: the edge must refuse, and only for that reason.
  const edge = await startPulse(configFor(dataDir, { PULSE_MAX_INGEST_AGE: "0", PULSE_MAX_LOOP_DELAY: "0", PULSE_MAX_MEMORY_MB: "1" }), ["edge"]);
  const { acked, send, sendUntil } = client(edge.url);
  try {
    const refused = await sendUntil((o) => o.status === 503, 20_000);
    expect(refused).toEqual({ status: 503, retryAfter: "5", code: "memory" });
    const before = acked.size;
    // It stays over the limit, so it keeps refusing, and takes nothing in.
    for (let i = 0; i < 3; i++) expect(await send()).toEqual({ status: 503, retryAfter: "5", code: "memory" });
    expect(acked.size).toBe(before);
  } finally {
    await edge.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
