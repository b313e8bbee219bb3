import type { Goal, VariantResult } from "./types.js";
import { compact } from "./stats.js";

/** The acceptance goals of the bench issue, checked against what was measured. */
export const evaluateGoals = (all: readonly VariantResult[]): Goal[] => {
  const goals: Goal[] = [];
  // The split-role run is an experiment, not one of the configurations the goals are about.
  const variants = all.filter((v) => !v.split);
  const named = (v: VariantResult): string => (v.log === "jetstream" ? "embedded log" : "Elasticsearch log");
  for (const v of variants) {
    const target = v.log === "jetstream" ? 100_000 : 50_000;
    goals.push({
      id: `sustained-${v.name}`,
      text: `sustained end-to-end rate, ${named(v)}, zero acked events missing`,
      target: `≥ ${compact(target)} events/s`,
      value: v.sustainedEventsPerSec !== null ? `${compact(v.sustainedEventsPerSec)} events/s` : `none sustained (max end to end ${compact(v.maxE2eEventsPerSec)})`,
      met: v.sustainedEventsPerSec !== null && v.sustainedEventsPerSec >= target && v.verification?.missing === 0,
    });
  }
  for (const v of variants)
    goals.push({
      id: `p99-${v.name}`,
      text: `ack p99 at half the maximum rate, ${named(v)}`,
      target: "≤ 25 ms",
      value: v.half ? `${v.half.p99} ms at ${compact(v.half.eventsPerSec)} events/s` : "not measured",
      met: v.half ? v.half.p99 <= 25 : null,
    });
  for (const v of variants)
    goals.push({
      id: `freshness-${v.name}`,
      text: `freshness p95 (ack → queryable), ${named(v)}`,
      target: "≤ 1 s",
      value: v.freshness && v.freshness.n > 0 ? `${v.freshness.p95} ms (n=${v.freshness.n})` : "not measured",
      met: v.freshness && v.freshness.p95 !== null ? v.freshness.p95 <= 1000 && v.freshness.timeouts === 0 : null,
    });
  for (const v of variants)
    goals.push({
      id: `missing-${v.name}`,
      text: `acked events missing from the store, ${named(v)}`,
      target: "0",
      value: v.verification ? `${v.verification.missing} of ${compact(v.verification.ackedEvents)}` : "not checked",
      met: v.verification ? v.verification.missing === 0 : null,
    });
  for (const v of variants) {
    const o = v.overload;
    if (!o) continue;
    goals.push({
      id: `overload-${v.name}`,
      text: `overload at 2× sustained, ${named(v)}: sheds with 429/503 + Retry-After, memory bounded, nothing acked lost, recovers`,
      target: "all four",
      value: `shed ${compact(o.shedEvents)} events${o.retryAfterOk ? " all with Retry-After" : `, ${o.shedWithoutRetryAfter} without Retry-After`}; RSS ${o.rssBeforeMb} → ${o.rssMaxMb} MB; lost ${v.verification?.missing ?? "?"}; ${o.recovered ? `recovered after ${o.recoverySeconds} s` : "did not recover"}`,
      met: o.shedding && o.retryAfterOk && o.memoryBounded && o.recovered && v.verification?.missing === 0,
    });
  }
  return goals;
};
