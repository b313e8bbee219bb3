import { fileURLToPath } from "node:url";

/**
 * The bench's own settings, from the environment:
 *   BENCH_QUICK=1      short phases (about 2 to 3 minutes in all), to check the harness
 *   BENCH_ES=0         skip everything that needs Elasticsearch
 *   BENCH_PROFILE=0    skip the --cpu-prof runs
 *   BENCH_OVERLOAD=0   skip the overload and recovery phases
 *   BENCH_SPLIT=1      also run the embedded setup with the worker in its own process (an experiment)
 *   BENCH_RESULTS=dir  where results go (default bench/results)
 *   BENCH_PULSE_OUTPUT=dir  also keep each Pulse's output there (with PULSE_MEMORY_REPORT=2s, its memory lines)
 * PULSE_* variables pass through to the Pulse under test (e.g. PULSE_PARTITIONS=4), and the
 * results record them.
 */
export interface BenchConfig {
  readonly quick: boolean;
  readonly elasticsearch: boolean;
  readonly profile: boolean;
  readonly overload: boolean;
  readonly split: boolean;
  /** False with BENCH_CEILINGS=0: end-to-end runs only, for quick comparisons of two builds. */
  readonly ceilings: boolean;
  readonly resultsDir: string;
  /** Where each Pulse's output is kept after its run; undefined: not kept. */
  readonly pulseOutputDir: string | undefined;
  readonly scratchDir: string;
  readonly connections: { readonly max: number; readonly rate: number };
  readonly ms: {
    readonly warmup: number;
    readonly max: number;
    readonly sustain: number;
    readonly half: number;
    /** Longest overload; it runs in steps of overloadStep and ends after two steps with shedding. */
    readonly overload: number;
    readonly overloadStep: number;
    readonly recovery: number;
    readonly ceiling: number;
    readonly profile: number;
    readonly drainTimeout: number;
  };
  /** Fixed rates tried for the sustained figure, as fractions of the end-to-end rate at the maximum. */
  readonly sustainFractions: readonly number[];
  readonly warmupEventsPerSec: number;
  readonly maxQueueMs: number;
}

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export const repoRoot = (): string => REPO;

export const loadBenchConfig = (env: NodeJS.ProcessEnv = process.env): BenchConfig => {
  const quick = env["BENCH_QUICK"] === "1";
  return {
    quick,
    elasticsearch: env["BENCH_ES"] !== "0",
    profile: env["BENCH_PROFILE"] !== "0",
    overload: env["BENCH_OVERLOAD"] !== "0",
    split: env["BENCH_SPLIT"] === "1",
    ceilings: env["BENCH_CEILINGS"] !== "0",
    resultsDir: env["BENCH_RESULTS"] || `${REPO}bench/results`,
    pulseOutputDir: env["BENCH_PULSE_OUTPUT"] || undefined,
    scratchDir: `${REPO}.cache/bench`,
    connections: { max: 128, rate: 256 },
    ms: quick
      ? { warmup: 2_000, max: 6_000, sustain: 5_000, half: 5_000, overload: 15_000, overloadStep: 5_000, recovery: 5_000, ceiling: 2_000, profile: 5_000, drainTimeout: 60_000 }
      : { warmup: 6_000, max: 20_000, sustain: 20_000, half: 20_000, overload: 60_000, overloadStep: 10_000, recovery: 20_000, ceiling: 4_000, profile: 15_000, drainTimeout: 120_000 },
    sustainFractions: quick ? [0.8] : [0.9, 0.7, 0.5],
    warmupEventsPerSec: 2_000,
    maxQueueMs: 2_000,
  };
};

/** PULSE_* settings passed through from the bench's environment. */
export const pulseOverrides = (env: NodeJS.ProcessEnv = process.env): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("PULSE_") && e[1] !== undefined));
