import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadBenchConfig } from "../config.js";
import { LoadGenerator } from "../load/driver.js";
import { PROBE_SITE, siteIds } from "../load/model.js";
import { startPulse } from "../sut/pulse.js";

/**
 * Do passivation sweeps stall the edge? Runs Pulse (embedded defaults) twice: with
 * passivation after 60 s (the default) and after 1 h (never, within the run). Each run loads
 * 8,000 events/s for 62 s, so that the first visitors go idle, then measures 5,000 events/s
 * for 25 s and prints the ack p50/p99 and the p99 of each second.
 *   node dist/bench/experiments/passivation.js
 */
if (!(process.env["PATH"] ?? "").split(":").includes("/usr/sbin")) process.env["PATH"] = `${process.env["PATH"] ?? ""}:/usr/sbin`;

const once = async (passivateAfter: string): Promise<void> => {
  const cfg = loadBenchConfig();
  const dataDir = await mkdtemp(join(cfg.scratchDir, "passivation-"));
  const pulse = await startPulse({
    env: { PULSE_DATA_DIR: dataDir, PULSE_SITES: [...siteIds(), PROBE_SITE].join(","), PULSE_NAMESPACE: "bench_passivation", PULSE_PASSIVATE_AFTER: passivateAfter, PULSE_NATS_URL: "", PULSE_ELASTICSEARCH_URL: "" },
  });
  const gen = await LoadGenerator.start();
  try {
    gen.reset(`pa${Date.now().toString(36)}`, 5);
    const spec = { host: pulse.host, port: pulse.port, connections: cfg.connections.rate, maxQueueMs: cfg.maxQueueMs, mode: "rate" as const };
    await gen.run({ ...spec, name: "load", eventsPerSec: 8_000, durationMs: 62_000 });
    const s = await gen.run({ ...spec, name: "measure", eventsPerSec: 5_000, durationMs: 25_000 });
    console.log(`PULSE_PASSIVATE_AFTER=${passivateAfter}: ack p50/p99 ${s.latency.p50}/${s.latency.p99} ms; p99 per second: ${s.series.map((x) => Math.round(x.p99)).join(" ")}`);
  } finally {
    await gen.stop();
    await pulse.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
};

await once("60s");
await once("1h");
process.exit(0);
