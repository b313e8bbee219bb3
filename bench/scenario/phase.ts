import type { BenchConfig } from "../config.js";
import type { LoadGenerator } from "../load/driver.js";
import type { FreshnessProbe, FreshnessRun } from "../observe/freshness.js";
import type { LagSample, LagWatch } from "../observe/nats.js";
import type { ProcSampler } from "../observe/procs.js";
import type { PulseUnderTest } from "../sut/pulse.js";
import type { FreshnessStats, LagStats, PhaseKind, PhaseResult } from "../report/types.js";
import { percentileOf } from "../report/stats.js";

export interface PhaseContext {
  readonly cfg: BenchConfig;
  readonly pulse: PulseUnderTest;
  readonly gen: LoadGenerator;
  readonly sampler: ProcSampler;
  readonly lag: LagWatch;
  readonly probe: FreshnessProbe;
  readonly say: (line: string) => void;
}

export interface PhasePlan {
  readonly name: string;
  readonly kind: PhaseKind;
  readonly mode: "rate" | "max";
  readonly eventsPerSec: number;
  readonly durationMs: number;
  readonly freshness: boolean;
  /** Wait for the workers and the store writer to catch up afterwards. */
  readonly drain: boolean;
}

export const freshnessStats = (runs: readonly FreshnessRun[]): FreshnessStats => {
  const ms = runs.flatMap((r) => r.samples.map((s) => s.ms));
  return {
    n: ms.length,
    p50: ms.length > 0 ? percentileOf(ms, 50) : null,
    p95: ms.length > 0 ? percentileOf(ms, 95) : null,
    max: ms.length > 0 ? Math.max(...ms) : null,
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
    unacked: runs.reduce((a, r) => a + r.unacked, 0),
  };
};

const lagStats = (samples: readonly LagSample[], from: number, to: number, ackedEvents: number): LagStats => {
  const inside = samples.filter((s) => s.t >= from && s.t <= to);
  const before = [...samples].reverse().find((s) => s.t <= from) ?? inside[0];
  const after = inside[inside.length - 1];
  const batches = before && after ? after.ingestLastSeq - before.ingestLastSeq : 0;
  const ingest = inside.map((s) => s.ingestLag);
  return {
    ingestMax: ingest.length > 0 ? Math.max(...ingest) : 0,
    ingestP95: ingest.length > 0 ? percentileOf(ingest, 95) : 0,
    ingestEnd: after?.ingestLag ?? 0,
    projectionMax: inside.length > 0 ? Math.max(...inside.map((s) => s.projectionLag)) : 0,
    eventsPerBatch: batches > 0 ? Math.round((ackedEvents / batches) * 10) / 10 : null,
  };
};

/** Runs one load phase against the Pulse under test and gathers everything measured during it. */
export const runPhase = async (ctx: PhaseContext, plan: PhasePlan): Promise<PhaseResult> => {
  if (!ctx.pulse.alive()) throw new Error(`pulse is not running:\n${ctx.pulse.output().slice(-3000)}`);
  const from = Date.now();
  if (plan.freshness) ctx.probe.start();
  const stats = await ctx.gen.run({
    name: plan.name,
    host: ctx.pulse.host,
    port: ctx.pulse.port,
    mode: plan.mode,
    eventsPerSec: plan.eventsPerSec,
    durationMs: plan.durationMs,
    connections: plan.mode === "max" ? ctx.cfg.connections.max : ctx.cfg.connections.rate,
    maxQueueMs: ctx.cfg.maxQueueMs,
  });
  const loadEnd = Date.now();
  const fresh = plan.freshness ? await ctx.probe.stop() : undefined;
  if (!ctx.pulse.alive()) throw new Error(`pulse exited during phase ${plan.name}:\n${ctx.pulse.output().slice(-3000)}`);
  const drainMs = plan.drain ? await ctx.lag.waitDrained(ctx.cfg.ms.drainTimeout) : null;
  const procs = ctx.sampler.window(from, loadEnd);
  const seconds = stats.elapsedMs / 1000;
  const ackedEventsPerSec = seconds > 0 ? Math.round(stats.ackedEvents / seconds) : 0;
  const e2eEventsPerSec = drainMs !== null && drainMs >= 0 ? Math.round(stats.ackedEvents / ((stats.elapsedMs + drainMs) / 1000)) : null;
  const result: PhaseResult = {
    name: plan.name,
    kind: plan.kind,
    stats,
    ackedEventsPerSec,
    e2eEventsPerSec,
    drainMs,
    lag: lagStats(ctx.lag.samples, from, loadEnd, stats.ackedEvents),
    freshness: fresh ? { ...freshnessStats([fresh]), samples: fresh.samples } : null,
    procs,
    pass: null,
    reasons: [],
  };
  const shed = stats.shed429 + Object.values(stats.shed503).reduce((a, b) => a + b, 0);
  ctx.say(
    `${plan.name.padEnd(22)} offered ${Math.round(stats.offeredEvents / Math.max(seconds, 0.001))} ev/s, acked ${ackedEventsPerSec} ev/s` +
      `${e2eEventsPerSec !== null ? `, end-to-end ${e2eEventsPerSec} ev/s (caught up ${drainMs} ms after)` : drainMs === -1 ? ", did NOT catch up" : ""}` +
      `, p50/p99 ${stats.latency.p50}/${stats.latency.p99} ms${shed > 0 ? `, shed ${shed}` : ""}${stats.failedEvents > 0 ? `, failed ${stats.failedEvents}` : ""}` +
      `${stats.droppedEvents > 0 ? `, not sent ${stats.droppedEvents}` : ""}${result.freshness?.p95 != null ? `, fresh p95 ${result.freshness.p95} ms` : ""}` +
      `, cpu ${Object.entries(procs.cpuPct).map(([k, v]) => `${k} ${v}%`).join(" ")}, other ${procs.otherCpuPct}%`,
  );
  return result;
};

/** A fixed-rate phase counts as sustained when nothing was shed or lost and the pipeline kept up. */
export const judgeSustained = (p: PhaseResult): PhaseResult => {
  const s = p.stats;
  const reasons: string[] = [];
  const shed = s.shed429 + Object.values(s.shed503).reduce((a, b) => a + b, 0);
  if (shed > 0) reasons.push(`${shed} events shed`);
  if (s.failedEvents > 0) reasons.push(`${s.failedEvents} events failed`);
  if (s.droppedEvents > s.offeredEvents * 0.001) reasons.push(`${s.droppedEvents} events not sent in time (no free connection)`);
  if (s.ackedEvents < s.offeredEvents * 0.999) reasons.push(`acked ${s.ackedEvents} of ${s.offeredEvents} offered`);
  if (p.drainMs === null || p.drainMs < 0 || p.drainMs > 3_000) reasons.push(p.drainMs !== null && p.drainMs >= 0 ? `needed ${p.drainMs} ms to catch up after the phase` : "did not catch up");
  return { ...p, pass: reasons.length === 0, reasons };
};
