import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { natsNames } from "../../infra/nats/streams.js";
import { freePort } from "../../infra/net/free-port.js";
import { BROWSER_HEADERS, uniqueNamespace, createToken } from "../harness/pulse.js";
import { spawnPulse } from "../harness/process.js";
import { QueryClient } from "../harness/ws-client.js";

const SITE = "site-a";
const LOOPS = 8;

it("drains on SIGTERM: every acknowledged event is logged and counted after a stop and a restart", async () => {
  const namespace = uniqueNamespace();
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-drain-"));
  const env = { PULSE_NATS_URL: inject("natsUrl"), PULSE_NAMESPACE: namespace, PULSE_DATA_DIR: dataDir, PULSE_SITES: SITE };
  const port = await freePort();
  const nc = await connect({ servers: inject("natsUrl") });
  try {
    const first = await spawnPulse(env, { port });
    const acked = new Set<string>();
    let refused = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    // Each loop is one visitor sending small batches back to back until the server stops answering.
    const loops = Array.from({ length: LOOPS }, async (_, v) => {
      for (let n = 0; ; n++) {
        const ids = Array.from({ length: 3 }, (_, k) => `d${v}-${n}-${k}`);
        const events = ids.map((id, k) => ({ id, name: "pageview", url: `https://a.example/${n}/${k}`, visitor: `drain-${v}`, ts: Date.now() }));
        try {
          const res = await fetch(`${first.url}/collect`, { method: "POST", headers: BROWSER_HEADERS, body: JSON.stringify({ site: SITE, events }) });
          if (res.status === 202) for (const id of ids) acked.add(id);
          else refused++;
          await res.arrayBuffer();
        } catch {
          refused++;
        }
        if (Date.now() > stopAt + 300) return;
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    const ackedBeforeSignal = acked.size;
    stopAt = Date.now();
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await Promise.all(loops);
    expect(ackedBeforeSignal).toBeGreaterThan(100);
    expect(first.output()).toMatch(/SIGTERM: draining[\s\S]*stopped/);
    // Nothing delivered to the worker was left unacknowledged.
    const jsm = await jetstreamManager(nc);
    const names = natsNames(namespace);
    for (let p = 0; p < 8; p++) expect((await jsm.consumers.info(names.ingestStream, names.partitionConsumer(p))).num_ack_pending).toBe(0);
    // After the stop the port is closed: new requests are refused.
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    const second = await spawnPulse(env, { port });
    try {
      const log = jetstreamEventLog(jetstream(nc), jsm, names, 60_000);
      const logged = async (): Promise<Set<string>> => {
        const ids = new Set<string>();
        for (let v = 0; v < LOOPS; v++) for (const e of await log.readVisitor(SITE, `drain-${v}`, 0)) ids.add(e.id);
        return ids;
      };
      await expect.poll(async () => (await logged()).size >= acked.size, { timeout: 30_000 }).toBe(true);
      const inLog = await logged();
      const missing = [...acked].filter((id) => !inLog.has(id));
      expect(missing).toEqual([]);
      const client = await QueryClient.open(second.url, await createToken(inject("natsUrl"), namespace, [SITE]));
      try {
        const today = new Date().toISOString().slice(0, 10);
        const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
        await expect
          .poll(async () => (await client.query(`q${Math.random()}`, { site: SITE, from: yesterday, to: today, metrics: ["pageviews"] })).rows[0]?.["pageviews"], { timeout: 30_000 })
          .toBe(inLog.size);
      } finally {
        client.close();
      }
      console.log(`acked ${acked.size} events (${ackedBeforeSignal} before SIGTERM), ${refused} requests refused while stopping, ${inLog.size} in the log`);
    } finally {
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    }
  } finally {
    await nc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 180_000);
