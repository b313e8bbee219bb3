import { connect } from "@nats-io/transport-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { freePort } from "../../infra/net/free-port.js";
import { leaseHolders, ownedBy } from "../harness/leases.js";
import { spawnPulse, type PulseProcess } from "../harness/process.js";
import { postJson, uniqueNamespace, createToken } from "../harness/pulse.js";
import { QueryClient } from "../harness/ws-client.js";

const SITE = "site-a";
const VISITORS = 40;
const MIN = 60_000;

it("a second worker takes over a killed worker's partitions within the lease bound, and sessions spanning the kill stay single", async () => {
  const namespace = uniqueNamespace();
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-takeover-"));
  const env = { PULSE_NATS_URL: inject("natsUrl"), PULSE_NAMESPACE: namespace, PULSE_DATA_DIR: dataDir, PULSE_SITES: SITE, PULSE_LEASE_TTL: "3s", PULSE_PARTITIONS: "8" };
  const nc = await connect({ servers: inject("natsUrl") });
  const procs: PulseProcess[] = [];
  try {
    const front = await spawnPulse(env, { port: await freePort(), args: ["start", "--roles", "edge,store"] });
    procs.push(front);
    const b = await spawnPulse(env, { args: ["worker"] });
    procs.push(b);
    const c = await spawnPulse(env, { args: ["worker"] });
    procs.push(c);
    // Both workers settle on a fair half each.
    await expect.poll(async () => {
      const h = await leaseHolders(nc, namespace);
      return [ownedBy(h, b.child.pid).length, ownedBy(h, c.child.pid).length];
    }, { timeout: 30_000, interval: 200 }).toEqual([4, 4]);
    const cHeld = ownedBy(await leaseHolders(nc, namespace), c.child.pid);

    const base = Date.now() - 40 * MIN;
    const send = async (minute: number): Promise<void> => {
      const rs = await Promise.all(
        Array.from({ length: VISITORS }, (_, v) =>
          postJson(`${front.url}/collect`, {
            site: SITE,
            events: [0, 1, 2].map((k) => ({ id: `t${v}-${minute}-${k}`, name: "pageview", visitor: `tv${v}`, url: `https://a.example/${k}`, ts: base + (minute + k) * MIN })),
          }),
        ),
      );
      expect(rs.every((r) => r.status === 202)).toBe(true);
    };
    const client = await QueryClient.open(front.url, await createToken(inject("natsUrl"), namespace, [SITE]));
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    const totals = async () => (await client.query(`q${Math.random()}`, { site: SITE, from: day(base - 86_400_000), to: day(Date.now()) })).rows[0] ?? {};
    try {
      await send(0);
      await expect.poll(totals, { timeout: 30_000 }).toEqual({ pageviews: 120, visitors: VISITORS, sessions: VISITORS });

      c.child.kill("SIGKILL");
      const killedAt = Date.now();
      await expect.poll(async () => ownedBy(await leaseHolders(nc, namespace), b.child.pid), { timeout: 30_000, interval: 100 }).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const takeoverMs = Date.now() - killedAt;
      // Bound: lease TTL (3 s) plus one renewal tick plus the server's expiry sweep.
      expect(takeoverMs).toBeLessThan(10_000);
      console.log(`worker killed; the survivor held all 8 partitions after ${takeoverMs} ms (it had ${8 - cHeld.length} before)`);

      // Ten minutes later by event time: within the 30-minute timeout, so still the same sessions.
      await send(10);
      await expect.poll(totals, { timeout: 30_000 }).toEqual({ pageviews: 240, visitors: VISITORS, sessions: VISITORS });
    } finally {
      client.close();
    }
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    await nc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 180_000);
