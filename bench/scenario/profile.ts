import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot, type BenchConfig } from "../config.js";
import { LoadGenerator } from "../load/driver.js";
import { PROBE_SITE, siteIds } from "../load/model.js";
import { analyzeProfile } from "../profile/analyze.js";
import type { ProfileResult } from "../report/types.js";
import { startPulse } from "../sut/pulse.js";
import { mkdtemp, rm } from "node:fs/promises";

/**
 * A separate short run with `node --cpu-prof` on Pulse and on the load generator, at the
 * maximum rate, so the figures of the measured runs carry no profiler overhead. Profiles
 * land in .cache/bench/profiles/ (open them in Chrome DevTools or speedscope).
 */
export const runProfile = async (cfg: BenchConfig, variant: "embedded" | "elasticsearch", elasticsearchUrl: string | undefined, stamp: string, say: (line: string) => void): Promise<ProfileResult[]> => {
  const dir = join(cfg.scratchDir, "profiles", `${stamp}-${variant}`);
  await mkdir(join(dir, "pulse"), { recursive: true });
  await mkdir(join(dir, "generator"), { recursive: true });
  const dataDir = await mkdtemp(join(cfg.scratchDir, `pulse-profile-`));
  const namespace = `bench_${stamp}_prof${variant === "embedded" ? "e" : "x"}`;
  // Each profile starts with its process; these let the analysis keep only the load phase.
  const pulseSpawned = Date.now();
  const pulse = await startPulse({
    env: {
      PULSE_DATA_DIR: dataDir,
      PULSE_SITES: [...siteIds(), PROBE_SITE].join(","),
      PULSE_NAMESPACE: namespace,
      PULSE_ELASTICSEARCH_URL: elasticsearchUrl ?? "",
      PULSE_NATS_URL: "",
      PULSE_CLICKHOUSE_URL: "",
    },
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${join(dir, "pulse")}`],
  });
  const genSpawned = Date.now();
  const gen = await LoadGenerator.start(["--cpu-prof", `--cpu-prof-dir=${join(dir, "generator")}`]);
  let phase = { from: 0, to: 0 };
  try {
    gen.reset(`p${stamp}`, 11);
    const spec = { host: pulse.host, port: pulse.port, connections: cfg.connections.max, maxQueueMs: cfg.maxQueueMs };
    await gen.run({ ...spec, name: "profile warm-up", mode: "rate", eventsPerSec: cfg.warmupEventsPerSec, durationMs: 2_000 });
    const from = Date.now();
    const s = await gen.run({ ...spec, name: "profile", mode: "max", eventsPerSec: 0, durationMs: cfg.ms.profile });
    phase = { from, to: Date.now() };
    say(`  profiled ${variant} at the maximum: ${Math.round(s.ackedEvents / (s.elapsedMs / 1000))} events/s acked for ${Math.round(s.elapsedMs / 1000)} s`);
  } finally {
    await gen.stop();
    await pulse.stop(120_000);
    await rm(dataDir, { recursive: true, force: true });
  }
  const out: ProfileResult[] = [];
  for (const [who, spawned] of [["pulse", pulseSpawned], ["generator", genSpawned]] as const) {
    const files = (await readdir(join(dir, who))).filter((f) => f.endsWith(".cpuprofile")).sort();
    const last = files[files.length - 1];
    if (!last) {
      say(`  no profile was written for ${who}`);
      continue;
    }
    const window = phase.to > 0 ? { fromMs: phase.from - spawned, toMs: phase.to - spawned } : undefined;
    out.push(analyzeProfile(join(dir, who, last), `${who} (${variant})`, repoRoot(), window));
  }
  return out;
};
