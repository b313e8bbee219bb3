import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { freePort } from "../../infra/net/free-port.js";
import { spawnPulse } from "../harness/process.js";
import { BROWSER_HEADERS, uniqueNamespace } from "../harness/pulse.js";

const SITE = "site-a";

it("with PULSE_MEMORY_REPORT, each thread of `pulse start` says where its memory is: the worker thread its visitors, the main thread chDB's", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-memory-"));
  const env = { PULSE_NATS_URL: inject("natsUrl"), PULSE_NAMESPACE: uniqueNamespace(), PULSE_DATA_DIR: dataDir, PULSE_SITES: SITE, PULSE_MEMORY_REPORT: "200ms" };
  const pulse = await spawnPulse(env, { port: await freePort() });
  try {
    const events = ["m1", "m2", "m3"].map((visitor, i) => ({ id: `mem-${i}`, name: "pageview", url: `https://a.example/${i}`, visitor, ts: Date.now() }));
    const res = await fetch(`${pulse.url}/collect`, { method: "POST", headers: BROWSER_HEADERS, body: JSON.stringify({ site: SITE, events }) });
    expect(res.status).toBe(202);
    // The three visitors are live on the worker thread once it has processed the batch.
    await expect.poll(() => pulse.output(), { timeout: 30_000, interval: 200 }).toMatch(/memory \(worker\) at [\d:]+: rss \d+ MB; heap \d+\/\d+ MB .*visitors: live 3, snapshots 0 \(0 MB\)/);
    expect(pulse.output()).toMatch(/memory \(edge\+store\) at [\d:]+: rss \d+ MB; heap \d+\/\d+ MB .*; store: tracked \d+ MB \(at most \d+ since the last line/);
  } finally {
    pulse.child.kill("SIGTERM");
    await pulse.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
