import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { natsNames } from "../../infra/nats/streams.js";
import { freePort } from "../../infra/net/free-port.js";
import { spawnPulse, type PulseProcess } from "../harness/process.js";
import { BROWSER_HEADERS, uniqueNamespace, createToken } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

const SITE = "site-a";
const LOOPS = 12;

it("a worker killed with SIGKILL under load and restarted loses nothing and counts nothing twice", async () => {
  const namespace = uniqueNamespace();
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-crash-"));
  const env = { PULSE_NATS_URL: inject("natsUrl"), PULSE_NAMESPACE: namespace, PULSE_DATA_DIR: dataDir, PULSE_SITES: SITE, PULSE_LEASE_TTL: "2s" };
  const nc = await connect({ servers: inject("natsUrl") });
  const procs: PulseProcess[] = [];
  try {
    const front = await spawnPulse(env, { port: await freePort(), args: ["start", "--roles", "edge,store"] });
    procs.push(front);
    procs.push(await spawnPulse(env, { args: ["worker"] }));
    const acked = new Set<string>();
    let failed = 0;
    let stop = false;
    // Each loop is one visitor; every request is retried until acknowledged, as a tracker would.
    const loops = Array.from({ length: LOOPS }, async (_, v) => {
      for (let n = 0; !stop; n++) {
        const events = [0, 1].map((k) => ({ id: `c${v}-${n}-${k}`, name: "pageview", visitor: `crash-${v}`, url: `https://a.example/${n}`, ts: Date.now() }));
        for (;;) {
          const res = await fetch(`${front.url}/collect`, { method: "POST", headers: BROWSER_HEADERS, body: JSON.stringify({ site: SITE, events }) });
          await res.arrayBuffer();
          if (res.status === 202) break;
          failed++;
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const e of events) acked.add(e.id);
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    const victim = procs[1] as PulseProcess;
    victim.child.kill("SIGKILL");
    await victim.exited;
    const killedAfter = acked.size;
    procs.push(await spawnPulse(env, { args: ["worker"] }));
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(loops);
    expect(killedAfter).toBeGreaterThan(100);
    expect(acked.size).toBeGreaterThan(killedAfter);

    const names = natsNames(namespace);
    const log = jetstreamEventLog(jetstream(nc), await jetstreamManager(nc), names, 60_000);
    // Once every acked event has reached the log, the log holds each exactly once.
    await expect.poll(() => log.count(SITE), { timeout: 60_000 }).toBe(acked.size);
    const logged: string[] = [];
    for (let v = 0; v < LOOPS; v++) logged.push(...(await log.readVisitor(SITE, `crash-${v}`, 0)).map((e) => e.id));
    expect(logged.length).toBe(acked.size);
    expect(new Set(logged)).toEqual(acked);

    const client = await QueryClient.open(front.url, await createToken(inject("natsUrl"), namespace, [SITE]));
    try {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      await expect
        .poll(async () => (await client.query(`q${Math.random()}`, { site: SITE, from: yesterday, to: today })).rows[0], { timeout: 60_000 })
        .toEqual({ pageviews: acked.size, visitors: LOOPS, sessions: LOOPS });
    } finally {
      client.close();
    }
    console.log(`${acked.size} events acked (${killedAfter} before the kill), ${failed} requests retried; log and reports hold each once`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    await nc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 180_000);
