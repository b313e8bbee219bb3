import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchConfig } from "../config.js";
import type { LoadGenerator } from "../load/driver.js";
import { PROBE_SITE, siteIds } from "../load/model.js";
import { freshnessProbe } from "../observe/freshness.js";
import { watchLag } from "../observe/nats.js";
import type { ProcSampler } from "../observe/procs.js";
import { day, openQueryClient, type QueryClient } from "../observe/ws-query.js";
import type { FreshnessRun } from "../observe/freshness.js";
import { createQueryToken, startPulse } from "../sut/pulse.js";
import { checkStore } from "../verify/run.js";
import type { OverloadResult, PhaseResult, StoreVerification, VariantResult } from "../report/types.js";
import { freshnessStats, judgeSustained, runPhase, type PhaseContext, type PhasePlan } from "./phase.js";

export interface VariantPlan {
  readonly name: "embedded" | "elasticsearch" | "embedded-split";
  readonly elasticsearchUrl: string | undefined;
  readonly overload: boolean;
  /** Roles in two processes: `pulse start --roles edge,store` and `pulse worker`. */
  readonly split?: boolean;
  readonly stamp: string;
}

/**
 * Opens the /ws query client. A new token reaches the edge through NATS KV within moments,
 * so until then the upgrade or the first query may be refused: retry for a while.
 */
const connectQueries = async (url: string, token: string | undefined): Promise<QueryClient> => {
  const until = Date.now() + 20_000;
  for (;;) {
    const client = await openQueryClient(url, token).catch((e: unknown) => e as Error);
    if (!(client instanceof Error)) {
      const refused = await client.pageviews(PROBE_SITE, day(Date.now()), day(Date.now())).then(
        () => false,
        (e: unknown) => /unauthorized|forbidden/.test(String(e)),
      );
      if (!refused) return client;
      client.close();
    }
    if (Date.now() > until) throw new Error(`/ws refused the bench's queries for 20 s${client instanceof Error ? `: ${client.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

const round = (n: number, to = 100): number => Math.max(to, Math.round(n / to) * to);

const esLogCount = async (url: string, namespace: string): Promise<number | null> => {
  try {
    await fetch(`${url}/${namespace}-events-*/_refresh`, { method: "POST" });
    const res = await fetch(`${url}/${namespace}-events-*/_count`);
    return ((await res.json()) as { count?: number }).count ?? null;
  } catch {
    return null;
  }
};

const shedOf = (p: PhaseResult): number => p.stats.shed429 + Object.values(p.stats.shed503).reduce((a, b) => a + b, 0);

const overloadResult = (before: PhaseResult | undefined, steps: readonly PhaseResult[], recovery: PhaseResult): OverloadResult => {
  const shedByCode: Record<string, number> = {};
  for (const st of steps) {
    for (const [code, n] of Object.entries(st.stats.shed503)) shedByCode[code] = (shedByCode[code] ?? 0) + n;
    if (st.stats.shed429 > 0) shedByCode["429"] = (shedByCode["429"] ?? 0) + st.stats.shed429;
  }
  const shedEvents = Object.values(shedByCode).reduce((a, b) => a + b, 0);
  const withoutRetryAfter = steps.reduce((a, st) => a + st.stats.shedWithoutRetryAfter, 0) + recovery.stats.shedWithoutRetryAfter;
  const series = recovery.stats.series;
  let recoverySeconds: number | null = null;
  for (let i = series.length - 1; i >= 0; i--) {
    if ((series[i]?.shed ?? 0) > 0) break;
    recoverySeconds = i;
  }
  const tail = series.slice(Math.floor(series.length / 2));
  const offered = tail.reduce((a, x) => a + x.offered, 0);
  const acked = tail.reduce((a, x) => a + x.acked, 0);
  const recoveryAckedRatio = offered > 0 ? Math.round((acked / offered) * 1000) / 1000 : 0;
  const rssBeforeMb = before?.procs.rssEndMb["pulse"] ?? 0;
  const rssMaxMb = Math.max(recovery.procs.rssMaxMb["pulse"] ?? 0, ...steps.map((st) => st.procs.rssMaxMb["pulse"] ?? 0));
  return {
    offeredEventsPerSec: steps[0]?.stats.targetEventsPerSec ?? 0,
    seconds: Math.round(steps.reduce((a, st) => a + st.stats.elapsedMs, 0) / 1000),
    shedEvents,
    shedByCode,
    shedWithoutRetryAfter: withoutRetryAfter,
    rssBeforeMb,
    rssMaxMb,
    rssAfterMb: recovery.procs.rssEndMb["pulse"] ?? 0,
    ingestLagMax: Math.max(0, ...steps.map((st) => st.lag.ingestMax)),
    recoveryCaughtUpMs: recovery.drainMs,
    recoverySeconds,
    recoveryAckedRatio,
    shedding: shedEvents > 0,
    retryAfterOk: withoutRetryAfter === 0,
    // Bounded: the edge refused work instead of buffering it; what grew is what the workers keep per visitor.
    memoryBounded: rssMaxMb - rssBeforeMb <= 512,
    recovered: recoverySeconds !== null && recoverySeconds <= series.length / 2 && recoveryAckedRatio >= 0.95,
  };
};

/**
 * One Pulse configuration under load: warm-up, the maximum (closed loop), fixed rates to
 * find the sustained end-to-end rate, half of it (latency), and optionally twice it
 * (overload) followed by a drop to half (recovery). Then every acked id is checked.
 */
export const runVariant = async (cfg: BenchConfig, gen: LoadGenerator, sampler: ProcSampler, plan: VariantPlan, say: (line: string) => void): Promise<VariantResult> => {
  const short = { embedded: "emb", elasticsearch: "es", "embedded-split": "split" }[plan.name];
  const namespace = `bench_${plan.stamp}_${short}`;
  const tag = `${short[0] ?? "b"}${plan.stamp}`;
  await mkdir(cfg.scratchDir, { recursive: true });
  const dataDir = await mkdtemp(join(cfg.scratchDir, `pulse-${plan.name}-`));
  const settings = {
    PULSE_DATA_DIR: dataDir,
    PULSE_SITES: [...siteIds(), PROBE_SITE].join(","),
    PULSE_NAMESPACE: namespace,
    PULSE_ELASTICSEARCH_URL: plan.elasticsearchUrl ?? "",
    PULSE_NATS_URL: "",
    PULSE_CLICKHOUSE_URL: "",
  };
  const phases: PhaseResult[] = [];
  const base: Omit<VariantResult, "error"> = {
    name: plan.name,
    log: plan.elasticsearchUrl ? "elasticsearch" : "jetstream",
    split: plan.split === true,
    namespace,
    settings: Object.fromEntries(Object.entries(settings).filter(([k, v]) => v !== "" && k !== "PULSE_DATA_DIR")),
    phases,
    maxE2eEventsPerSec: null,
    maxAckedEventsPerSec: null,
    sustainedEventsPerSec: null,
    half: null,
    freshness: null,
    overload: null,
    verification: null,
    tightestCeiling: null,
    ratioToCeiling: null,
    lagSeries: [],
    rssSeries: [],
  };
  let result: Omit<VariantResult, "error"> = base;
  const pulse = await startPulse({ env: settings, ...(plan.split ? { args: ["--roles", "edge,store"] } : {}) });
  say(`pulse (${plan.name}) ready at ${pulse.url}, pid ${pulse.pid}, nats pid ${String(pulse.natsPid)}`);
  sampler.add({ name: "pulse", pids: () => [pulse.pid] });
  const worker = plan.split
    ? await startPulse({ env: { ...settings, PULSE_NATS_URL: pulse.natsUrl, PULSE_DATA_DIR: join(dataDir, "worker") }, args: ["worker"], readyLine: /claiming partitions/ })
    : undefined;
  if (worker) {
    say(`pulse worker ready, pid ${worker.pid}`);
    sampler.add({ name: "worker", pids: () => [worker.pid] });
  }
  if (pulse.natsPid !== undefined) {
    const natsPid = pulse.natsPid;
    sampler.add({ name: "nats", pids: () => [natsPid] });
  }
  const startedAt = Date.now();
  const lag = await watchLag(pulse.natsUrl, namespace);
  const token = await createQueryToken(pulse.natsUrl, namespace, [...siteIds(), PROBE_SITE]);
  if (token) say(`  query token created for the bench sites`);
  const client = await connectQueries(pulse.url, token);
  const probe = freshnessProbe(pulse.url, client, tag);
  gen.reset(tag, plan.name === "embedded" ? 1 : 2);
  const ctx: PhaseContext = { cfg, pulse, gen, sampler, lag, probe, say: (l) => say(`  ${l}`) };
  const phase = async (p: PhasePlan): Promise<PhaseResult> => {
    const r = await runPhase(ctx, p);
    phases.push(r);
    return r;
  };
  let error: string | null = null;
  try {
    await phase({ name: "warm-up", kind: "warmup", mode: "rate", eventsPerSec: cfg.warmupEventsPerSec, durationMs: cfg.ms.warmup, freshness: false, drain: true });
    const max = await phase({ name: "max (closed loop)", kind: "max", mode: "max", eventsPerSec: 0, durationMs: cfg.ms.max, freshness: false, drain: true });
    // Not caught up within the timeout: a lower bound, as if it had caught up right then.
    const maxE2e = max.e2eEventsPerSec ?? Math.round(max.stats.ackedEvents / ((max.stats.elapsedMs + cfg.ms.drainTimeout) / 1000));
    result = { ...result, maxE2eEventsPerSec: max.e2eEventsPerSec, maxAckedEventsPerSec: max.ackedEventsPerSec };

    let sustained: PhaseResult | undefined;
    let lowest = maxE2e;
    for (const f of cfg.sustainFractions) {
      const rate = round(maxE2e * f);
      lowest = rate;
      const judged = judgeSustained(await phase({ name: `fixed ${rate}/s`, kind: "sustain", mode: "rate", eventsPerSec: rate, durationMs: cfg.ms.sustain, freshness: true, drain: true }));
      phases[phases.length - 1] = judged;
      if (judged.pass) {
        sustained = judged;
        break;
      }
      say(`    not sustained: ${judged.reasons.join("; ")}`);
    }
    const sustainedRate = sustained ? (sustained.e2eEventsPerSec ?? sustained.stats.targetEventsPerSec) : null;
    result = { ...result, sustainedEventsPerSec: sustainedRate };
    const halfRate = round((sustainedRate ?? lowest) / 2);
    const half = await phase({ name: `half ${halfRate}/s`, kind: "half", mode: "rate", eventsPerSec: halfRate, durationMs: cfg.ms.half, freshness: true, drain: true });
    if (half.stats.latency.count > 0) result = { ...result, half: { eventsPerSec: halfRate, p50: half.stats.latency.p50, p99: half.stats.latency.p99 } };

    if (plan.overload) {
      // Twice the sustained rate, in back-to-back steps, until the edge has shed for a whole
      // step (its backlog bound may take a while to reach) or the time allowed is used up.
      const overRate = round(2 * (sustainedRate ?? lowest));
      const steps: PhaseResult[] = [];
      let sheddingSteps = 0;
      for (let spent = 0; spent < cfg.ms.overload && sheddingSteps < 2; spent += cfg.ms.overloadStep) {
        const step = await phase({ name: `overload ${overRate}/s #${steps.length + 1}`, kind: "overload", mode: "rate", eventsPerSec: overRate, durationMs: cfg.ms.overloadStep, freshness: true, drain: false });
        steps.push(step);
        if (shedOf(step) > 0) sheddingSteps++;
      }
      const recovery = await phase({ name: `recovery ${halfRate}/s`, kind: "recovery", mode: "rate", eventsPerSec: halfRate, durationMs: cfg.ms.recovery, freshness: true, drain: true });
      result = { ...result, overload: overloadResult(half, steps, recovery) };
    }
  } catch (e) {
    error = (e as Error).message;
    say(`  variant ${plan.name} stopped early: ${error.split("\n")[0] ?? ""}`);
  }

  // Every acknowledged event must be in the store: first as /ws sees it, then id by id in chDB once Pulse has stopped.
  let verification: StoreVerification | null = null;
  try {
    const ackedFile = join(dataDir, "acked.csv");
    const acked = await gen.acked(ackedFile);
    if (pulse.alive()) await lag.waitDrained(cfg.ms.drainTimeout);
    let reported = 0;
    let short = 0;
    let shortLater: number | null = null;
    const ackedPageviews = Object.values(acked.pageviewsBySite).reduce((a, b) => a + b, 0);
    const askWs = async (): Promise<{ reported: number; short: number }> => {
      const [from, to] = [day(Date.now() - 2 * 86_400_000), day(Date.now() + 86_400_000)];
      let seenAll = 0;
      let missing = 0;
      for (const [site, n] of Object.entries(acked.pageviewsBySite)) {
        const seen = Math.max(0, await client.pageviews(site, from, to).catch(() => -1));
        seenAll += seen;
        if (seen < n) missing += n - seen;
      }
      return { reported: seenAll, short: missing };
    };
    if (pulse.alive()) {
      ({ reported, short } = await askWs());
      // Short right after the pipeline looked caught up: ask again a little later, to tell late from lost.
      if (short > 0) {
        await new Promise((r) => setTimeout(r, 5_000));
        shortLater = (await askWs()).short;
      }
    }
    const logEvents = plan.elasticsearchUrl ? await esLogCount(plan.elasticsearchUrl, namespace) : (lag.latest()?.logMessages ?? null);
    client.close();
    await lag.close();
    await worker?.stop();
    const code = await pulse.stop();
    say(`  pulse stopped (exit ${String(code)}); checking ${acked.events} acked ids in chDB`);
    const check = await checkStore(join(dataDir, "chdb"), namespace, ackedFile, `${tag}-`);
    verification = {
      ackedEvents: acked.events,
      missing: check.missing,
      examples: check.examples,
      storedIds: check.storedIds,
      storedRows: check.storedRows,
      wsPageviewsShort: short,
      wsPageviewsShortAfter5s: shortLater,
      wsPageviewsReported: reported,
      wsPageviewsAcked: ackedPageviews,
      storePageviewsShort: Object.entries(acked.pageviewsBySite)
        .map(([site, n]) => [site, n, check.pageviewsBySite[site]?.final ?? 0, check.pageviewsBySite[site]?.ids ?? 0] as const)
        .filter(([, n, final]) => final < n),
      logEvents,
    };
    say(`  verification: ${check.missing} of ${acked.events} acked events missing; store holds ${check.storedIds} ids in ${check.storedRows} rows (FINAL); /ws pageviews ${reported} for ${ackedPageviews} acked${short > 0 ? ` (${short} short, ${String(shortLater)} short 5 s later)` : ""}${logEvents !== null ? `; log holds ${logEvents} ${plan.elasticsearchUrl ? "documents" : "messages"}` : ""}`);
  } catch (e) {
    error = `${error ? `${error}\n` : ""}verification failed: ${(e as Error).message}`;
    say(`  verification failed: ${(e as Error).message.split("\n")[0] ?? ""}`);
    client.close();
    await lag.close().catch(() => undefined);
    await worker?.stop();
    await pulse.stop();
  }
  const endedAt = Date.now();
  if (cfg.pulseOutputDir) {
    await mkdir(cfg.pulseOutputDir, { recursive: true });
    await writeFile(join(cfg.pulseOutputDir, `pulse-${plan.name}-${plan.stamp}.log`), pulse.output() + (worker ? `\n--- worker ---\n${worker.output()}` : ""));
  }
  sampler.remove("pulse");
  sampler.remove("worker");
  sampler.remove("nats");
  const freshnessPhases = phases.filter((p) => (p.kind === "sustain" && p.pass) || p.kind === "half");
  await rm(dataDir, { recursive: true, force: true });
  return {
    ...result,
    freshness: freshnessPhases.length > 0 ? mergeFreshness(freshnessPhases) : null,
    verification,
    lagSeries: lag.samples.filter((s) => s.t >= startedAt).map((s) => [s.t, s.ingestLag, s.projectionLag] as const),
    rssSeries: sampler.rssSeries("pulse", startedAt, endedAt),
    error,
  };
};

/** Freshness over the phases that count for the goal: the sustained rate and half of it. */
const mergeFreshness = (phases: readonly PhaseResult[]): VariantResult["freshness"] =>
  freshnessStats(phases.map((p): FreshnessRun => ({ samples: [...(p.freshness?.samples ?? [])], timeouts: p.freshness?.timeouts ?? 0, unacked: p.freshness?.unacked ?? 0 })));
