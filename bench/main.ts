import { randomInt } from "node:crypto";
import { join } from "node:path";
import { runCeilings } from "./ceilings/run.js";
import { loadBenchConfig, pulseOverrides, repoRoot } from "./config.js";
import { LoadGenerator } from "./load/driver.js";
import { SITE_COUNT } from "./load/model.js";
import { machineInfo } from "./machine.js";
import { startProcSampler } from "./observe/procs.js";
import { evaluateGoals } from "./report/goals.js";
import { median } from "./report/stats.js";
import { SCHEMA, type BenchResults, type Ceiling, type ProfileResult, type VariantResult } from "./report/types.js";
import { writeResults } from "./report/write.js";
import { runProfile } from "./scenario/profile.js";
import { runVariant } from "./scenario/variant.js";
import { startBenchElasticsearch, type BenchElasticsearch } from "./sut/elasticsearch.js";

/**
 * `make bench`: the ceilings of Pulse's parts alone, then Pulse end to end on the embedded
 * log and on Elasticsearch (warm-up, maximum, sustained, half, overload and recovery), a
 * --cpu-prof run, and the results under bench/results/. See bench/README.md.
 */

const started = Date.now();
const say = (line: string): void => {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`bench ${t}s  ${line}`);
};

// Debian installs nats-server in /usr/sbin, which a non-login PATH may lack.
if (!(process.env["PATH"] ?? "").split(":").includes("/usr/sbin")) process.env["PATH"] = `${process.env["PATH"] ?? ""}:/usr/sbin`;

const withRatio = (v: VariantResult, ceilings: readonly Ceiling[]): VariantResult => {
  const parts = v.log === "jetstream" ? ["uws", "jetstream", "chdb"] : ["uws", "jetstream", "chdb", "elasticsearch"];
  const core = ceilings.filter((c) => c.core && c.eventsPerSec !== undefined && parts.includes(c.part));
  const tightest = core.sort((a, b) => (a.eventsPerSec ?? 0) - (b.eventsPerSec ?? 0))[0];
  const rate = v.sustainedEventsPerSec ?? v.maxE2eEventsPerSec;
  if (!tightest?.eventsPerSec || rate === null) return v;
  return { ...v, tightestCeiling: { id: tightest.id, eventsPerSec: tightest.eventsPerSec }, ratioToCeiling: Math.round((rate / tightest.eventsPerSec) * 1000) / 1000 };
};

const main = async (): Promise<void> => {
  const cfg = loadBenchConfig();
  const stamp = `${Math.floor(Date.now() / 1000).toString(36)}${randomInt(36 * 36).toString(36)}`;
  say(`${cfg.quick ? "quick" : "full"} run ${stamp}; Elasticsearch ${cfg.elasticsearch ? "on" : "off"}, profile ${cfg.profile ? "on" : "off"}, overload ${cfg.overload ? "on" : "off"}`);
  const overrides = pulseOverrides();
  if (Object.keys(overrides).length > 0) say(`Pulse settings from the environment: ${JSON.stringify(overrides)}`);
  const sampler = startProcSampler();
  sampler.add({ name: "driver", pids: () => [process.pid] });
  const gen = await LoadGenerator.start();
  sampler.add({ name: "generator", pids: () => [gen.pid] });
  const ceilings: Ceiling[] = [];
  const variants: VariantResult[] = [];
  const profiles: ProfileResult[] = [];
  const notes: string[] = [];
  let es: BenchElasticsearch | undefined;
  try {
    if (cfg.ceilings) {
      say("ceilings: the parts alone");
      ceilings.push(...(await runCeilings(cfg, gen, sampler, undefined, ["uws", "jetstream", "chdb"], say)));
    } else notes.push("Ceilings were skipped (BENCH_CEILINGS=0).");

    say("Pulse, embedded log (JetStream) and chDB");
    variants.push(await runVariant(cfg, gen, sampler, { name: "embedded", elasticsearchUrl: undefined, overload: cfg.overload, stamp }, say));
    if (cfg.split) {
      say("Pulse, embedded log, worker in its own process (experiment)");
      variants.push(await runVariant(cfg, gen, sampler, { name: "embedded-split", elasticsearchUrl: undefined, overload: false, split: true, stamp }, say));
    }
    if (cfg.profile) {
      say("profile, embedded log");
      profiles.push(...(await runProfile(cfg, "embedded", undefined, stamp, say).catch((e: unknown) => (say(`  profile failed: ${(e as Error).message}`), []))));
    }

    if (cfg.elasticsearch) {
      say("starting Elasticsearch");
      try {
        es = await startBenchElasticsearch();
      } catch (e) {
        notes.push(`Elasticsearch did not start: ${(e as Error).message.split("\n")[0] ?? ""}`);
        say(`  Elasticsearch did not start: ${(e as Error).message}`);
      }
      if (es) {
        const running = es;
        say(`  Elasticsearch ${running.version} at ${running.url}`);
        sampler.add({ name: "elasticsearch", pids: running.pids });
        if (cfg.ceilings) ceilings.push(...(await runCeilings(cfg, gen, sampler, { url: running.url }, ["elasticsearch"], say)));
        say("Pulse, Elasticsearch log and chDB");
        variants.push(await runVariant(cfg, gen, sampler, { name: "elasticsearch", elasticsearchUrl: running.url, overload: false, stamp }, say));
        if (cfg.profile) {
          say("profile, Elasticsearch log");
          profiles.push(...(await runProfile(cfg, "elasticsearch", running.url, stamp, say).catch((e: unknown) => (say(`  profile failed: ${(e as Error).message}`), []))));
        }
      }
    } else notes.push("Elasticsearch was skipped (BENCH_ES=0).");
  } finally {
    await gen.stop();
    if (es) {
      say("stopping Elasticsearch");
      await es.stop();
    }
    sampler.stop();
  }

  const rated = variants.map((v) => withRatio(v, ceilings));
  const other = rated.flatMap((v) => v.phases.map((p) => p.procs.otherCpuPct));
  if (Object.keys(overrides).length > 0) notes.push(`Pulse settings from the environment: ${JSON.stringify(overrides)}.`);
  const results: BenchResults = {
    schema: SCHEMA,
    quick: cfg.quick,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    machine: machineInfo(es?.version),
    load: { sites: SITE_COUNT, population: "4000 visitors on site at a time, one request in flight each", eventsPerRequest: "1 to 25 (uniform)", connections: { ...cfg.connections } },
    ceilings,
    variants: rated,
    profiles,
    goals: evaluateGoals(rated),
    otherLoadPct: other.length > 0 ? Math.round(median(other)) : 0,
    notes,
  };
  const written = await writeResults(cfg.resultsDir, results, join(repoRoot(), "bench", "README.md"));
  say(`results: ${written.json}, ${written.markdown}, ${written.png}${written.previous ? ` (compared with ${written.previous})` : " (no previous run to compare with)"}`);
  for (const g of results.goals) say(`  goal ${g.met === null ? "n/a" : g.met ? "MET " : "NOT met"}  ${g.text}: ${g.value} (target ${g.target})`);
};

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
