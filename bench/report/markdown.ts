import type { BenchResults, PhaseResult, VariantResult } from "./types.js";
import { compact } from "./stats.js";

/** The results as markdown tables, with a comparison against the previous run when there is one. */

const row = (cells: readonly (string | number | null | undefined)[]): string => `| ${cells.map((c) => (c === null || c === undefined ? "–" : String(c))).join(" | ")} |`;
const table = (head: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string =>
  [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const yes = (b: boolean | null): string => (b === null ? "n/a" : b ? "yes" : "**no**");

export const variantLabel = (v: VariantResult): string =>
  v.split ? "embedded log, worker in its own process" : v.log === "jetstream" ? "embedded log (JetStream)" : "Elasticsearch log";

const shedOf = (p: PhaseResult): number => p.stats.shed429 + Object.values(p.stats.shed503).reduce((a, b) => a + b, 0);

const cpu = (p: PhaseResult): string =>
  ["pulse", "worker", "nats", "elasticsearch", "generator", "driver"]
    .filter((k) => p.procs.cpuPct[k] !== undefined)
    .map((k) => `${k === "elasticsearch" ? "es" : k === "generator" ? "gen" : k} ${Math.round(p.procs.cpuPct[k] ?? 0)}`)
    .join(", ") + `, other ${Math.round(p.procs.otherCpuPct)}`;

const rss = (p: PhaseResult): string =>
  ["pulse", "worker", "nats", "elasticsearch", "generator", "driver"]
    .filter((k) => p.procs.rssMaxMb[k] !== undefined)
    .map((k) => `${k === "elasticsearch" ? "es" : k === "generator" ? "gen" : k} ${p.procs.rssMaxMb[k] ?? 0}`)
    .join(", ");

export const machineLine = (r: BenchResults): string => {
  const m = r.machine;
  return `${m.nproc} cores (${m.cpuModel}), ${m.memGiB} GiB RAM, Node ${m.node}, nats-server ${m.natsServer}${m.elasticsearch ? `, Elasticsearch ${m.elasticsearch}` : ""}, Linux ${m.kernel}; commit ${m.commit}${m.dirty ? " (with uncommitted changes)" : ""}`;
};

const variantSummary = (r: BenchResults): string =>
  table(
    ["log", "max acked ev/s", "max end-to-end ev/s", "sustained end-to-end ev/s", "tightest ceiling", "Pulse / ceiling", "ack p50 / p99 at half", "freshness p50 / p95", "acked ids missing"],
    r.variants.map((v) => [
      variantLabel(v),
      compact(v.maxAckedEventsPerSec),
      compact(v.maxE2eEventsPerSec),
      v.sustainedEventsPerSec !== null ? `**${compact(v.sustainedEventsPerSec)}**` : "none passed",
      v.tightestCeiling ? `${v.tightestCeiling.id} ${compact(v.tightestCeiling.eventsPerSec)}` : null,
      v.ratioToCeiling !== null ? `${(v.ratioToCeiling * 100).toFixed(1)}%` : null,
      v.half ? `${v.half.p50} / ${v.half.p99} ms @ ${compact(v.half.eventsPerSec)}/s` : null,
      v.freshness && v.freshness.n > 0 ? `${v.freshness.p50} / ${v.freshness.p95} ms (n=${v.freshness.n}${v.freshness.timeouts ? `, ${v.freshness.timeouts} timed out` : ""})` : null,
      v.verification ? `${v.verification.missing} of ${compact(v.verification.ackedEvents)}` : "not checked",
    ]),
  );

const phaseTable = (v: VariantResult): string =>
  table(
    ["phase", "offered ev/s", "acked ev/s", "end-to-end ev/s", "caught up after", "ack p50 / p99 / p99.9", "shed (429/503)", "not sent / failed", "ingest lag max (batches)", "ev/batch", "freshness p50 / p95", "CPU % of a core", "RSS max (MB)"],
    v.phases.map((p) => {
      const s = p.stats;
      const secs = Math.max(0.001, s.elapsedMs / 1000);
      return [
        `${p.name}${p.pass === true ? " ✓" : p.pass === false ? " ✗" : ""}`,
        compact(s.offeredEvents / secs),
        compact(p.ackedEventsPerSec),
        compact(p.e2eEventsPerSec),
        p.drainMs === null ? "–" : p.drainMs < 0 ? "**no**" : `${p.drainMs} ms`,
        `${s.latency.p50} / ${s.latency.p99} / ${s.latency.p999} ms`,
        shedOf(p) > 0 ? `${compact(shedOf(p))}${Object.keys(s.shed503).length > 0 ? ` (${Object.keys(s.shed503).join(", ")})` : ""}` : "0",
        s.droppedEvents + s.failedEvents > 0 ? `${compact(s.droppedEvents)} / ${compact(s.failedEvents)}` : "0",
        p.lag.ingestMax,
        p.lag.eventsPerBatch,
        p.freshness && p.freshness.n > 0 ? `${p.freshness.p50} / ${p.freshness.p95} ms` : "–",
        cpu(p),
        rss(p),
      ];
    }),
  );

const ceilingTable = (r: BenchResults): string =>
  table(
    ["part alone", "rate", "CPU % of a core", "notes"],
    r.ceilings.map((c) => [
      `${c.core ? "**" : ""}${c.label}${c.core ? "**" : ""}`,
      `${compact(c.value)} ${c.unit}`,
      Object.entries(c.cpuPct).map(([k, v]) => `${k} ${Math.round(v)}`).join(", "),
      c.note ?? "",
    ]),
  );

const overloadTable = (r: BenchResults): string => {
  const rows = r.variants.filter((v) => v.overload).map((v) => {
    const o = v.overload as NonNullable<VariantResult["overload"]>;
    return [
      v.log === "jetstream" ? "embedded" : "Elasticsearch",
      `${compact(o.offeredEventsPerSec)}/s for ${o.seconds} s`,
      o.shedEvents > 0 ? `${compact(o.shedEvents)} (${Object.entries(o.shedByCode).map(([k, n]) => `${k} ${compact(n)}`).join(", ")})` : "**none**",
      o.retryAfterOk ? "all" : `${o.shedWithoutRetryAfter} without`,
      `${o.rssBeforeMb} → ${o.rssMaxMb} → ${o.rssAfterMb} MB`,
      o.ingestLagMax,
      o.recoverySeconds !== null ? `${o.recoverySeconds} s, then ${(o.recoveryAckedRatio * 100).toFixed(1)}% acked` : "**no**",
      o.recoveryCaughtUpMs === null ? "–" : o.recoveryCaughtUpMs < 0 ? "**not in time**" : `${(o.recoveryCaughtUpMs / 1000).toFixed(1)} s after`,
      v.verification ? String(v.verification.missing) : "–",
      [o.shedding, o.retryAfterOk, o.memoryBounded, o.recovered, v.verification?.missing === 0].every(Boolean) ? "pass" : "**fail**",
    ];
  });
  return rows.length === 0
    ? "_No overload run._"
    : table(["log", "offered (2× sustained)", "shed events (by code)", "Retry-After", "pulse RSS before → max → after", "ingest lag max", "recovery (no shedding after)", "backlog processed", "acked lost", "verdict"], rows);
};

const profileTables = (r: BenchResults): string =>
  r.profiles
    .map(
      (p) =>
        `**${p.process}**: main thread busy ${p.busyPct}% of ${Math.round(p.wallMs / 1000)} s.\n\n` +
        `By area: ${p.byArea.slice(0, 10).map((a) => `${a.area} ${a.pct}%`).join(", ")}\n\n` +
        table(
          ["self %", "function", "where"],
          p.top.slice(0, 15).map((e) => [`${e.pct}%`, `\`${e.fn}\``, e.where]),
        ),
    )
    .join("\n\n");

interface Metric {
  readonly name: string;
  readonly get: (r: BenchResults) => number | null | undefined;
  readonly better: "higher" | "lower";
}

const variantOf = (r: BenchResults, log: "jetstream" | "elasticsearch"): VariantResult | undefined => r.variants.find((v) => v.log === log && !v.split);

const METRICS: readonly Metric[] = [
  ...(["jetstream", "elasticsearch"] as const).flatMap((log): Metric[] => {
    const name = log === "jetstream" ? "embedded" : "ES";
    return [
      { name: `${name}: sustained end-to-end ev/s`, get: (r) => variantOf(r, log)?.sustainedEventsPerSec, better: "higher" },
      { name: `${name}: max end-to-end ev/s`, get: (r) => variantOf(r, log)?.maxE2eEventsPerSec, better: "higher" },
      { name: `${name}: max acked ev/s`, get: (r) => variantOf(r, log)?.maxAckedEventsPerSec, better: "higher" },
      { name: `${name}: ack p99 at half (ms)`, get: (r) => variantOf(r, log)?.half?.p99, better: "lower" },
      { name: `${name}: freshness p95 (ms)`, get: (r) => variantOf(r, log)?.freshness?.p95, better: "lower" },
      { name: `${name}: acked ids missing`, get: (r) => variantOf(r, log)?.verification?.missing, better: "lower" },
    ];
  }),
  { name: "ceiling: uWS alone ev/s", get: (r) => r.ceilings.find((c) => c.id === "uws")?.value, better: "higher" },
  { name: "ceiling: JetStream 64 ev/msg ev/s", get: (r) => r.ceilings.find((c) => c.id === "jetstream-batch-64")?.value, better: "higher" },
  { name: "ceiling: JetStream log append ev/s", get: (r) => r.ceilings.find((c) => c.id === "jetstream-log-append")?.value, better: "higher" },
  { name: "ceiling: chDB insert ev/s", get: (r) => r.ceilings.find((c) => c.core && c.part === "chdb")?.value, better: "higher" },
  { name: "ceiling: ES bulk ev/s", get: (r) => r.ceilings.find((c) => c.id === "es-bulk")?.value, better: "higher" },
  { name: "other load on the machine (% of a core)", get: (r) => r.otherLoadPct, better: "lower" },
];

export const comparison = (now: BenchResults, previous: BenchResults | undefined): string => {
  if (!previous) return "_No previous run to compare with (this is the first one kept in bench/results/)._";
  const rows = METRICS.map((m) => {
    const a = m.get(previous);
    const b = m.get(now);
    let change = "–";
    if (a !== null && a !== undefined && b !== null && b !== undefined && a !== 0) {
      const pct = ((b - a) / Math.abs(a)) * 100;
      const good = m.better === "higher" ? pct > 0 : pct < 0;
      change = `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%${Math.abs(pct) >= 10 ? (good ? " (better)" : " (worse)") : ""}`;
    }
    return [m.name, compact(a), compact(b), change];
  }).filter((r) => r[1] !== "–" || r[2] !== "–");
  return `Previous run: ${previous.startedAt} (${previous.quick ? "quick" : "full"}, commit ${previous.machine.commit}).\n\n` + table(["metric", "previous", "this run", "change"], rows);
};

/** Says how much other work ran on the machine, and in which phases it was heavy. */
const otherLoadLine = (r: BenchResults): string => {
  const heavy = r.variants.flatMap((v) => v.phases.filter((p) => p.procs.otherCpuPct >= 30).map((p) => `${v.name} ${p.name} (${Math.round(p.procs.otherCpuPct)}%)`));
  const all = r.variants.reduce((a, v) => a + v.phases.length, 0);
  return heavy.length === 0
    ? `Other load on the machine: a median ${r.otherLoadPct}% of a core during the phases.`
    : `**Other load was present** in ${heavy.length} of ${all} phases (processes outside the bench using 30% of a core or more; median over all phases ${r.otherLoadPct}%): ${heavy.join(", ")}. Figures of those phases are lower and noisier.`;
};

export const renderMarkdown = (r: BenchResults, previous: BenchResults | undefined): string => {
  const parts = [
    `Run of ${r.startedAt} (${r.quick ? "BENCH_QUICK=1, short phases: figures are rough" : "full"}), ${Math.round(r.durationS)} s in all.`,
    `Machine: ${machineLine(r)}. The load generator runs on the same machine.`,
    otherLoadLine(r),
    ...r.notes.map((n) => `Note: ${n}`),
    "### Goals",
    table(["goal", "target", "measured", "met"], r.goals.map((g) => [g.text, g.target, g.value, yes(g.met)])),
    "### End to end",
    variantSummary(r),
    r.variants.some((v) => v.split)
      ? "The split run is an experiment (BENCH_SPLIT=1): the same embedded setup with `pulse start --roles edge,store` and `pulse worker` as two processes, to see what using both cores for Pulse would give. It has no goals of its own."
      : "",
    ...r.variants.flatMap((v) => [
      `### Phases, ${variantLabel(v)}${v.error ? ` (stopped early: ${v.error.split("\n")[0] ?? ""})` : ""}`,
      phaseTable(v),
      v.verification
        ? `Verification after the run: ${v.verification.missing} of ${v.verification.ackedEvents} acked events missing from chDB${v.verification.examples.length > 0 ? ` (e.g. ${v.verification.examples.slice(0, 3).join(", ")})` : ""}; the events table holds ${v.verification.storedIds} of this run's ids in ${v.verification.storedRows} rows with FINAL; /ws reported ${v.verification.wsPageviewsReported} pageviews for ${v.verification.wsPageviewsAcked} acked${v.verification.wsPageviewsShort > 0 ? ` (**${v.verification.wsPageviewsShort} short** right after the pipeline looked caught up, ${String(v.verification.wsPageviewsShortAfter5s)} still short 5 s later; sites where the store's FINAL count is short, as [site, acked, FINAL, distinct pageview ids]: ${JSON.stringify(v.verification.storePageviewsShort)})` : ""}${v.verification.logEvents !== null ? `; the event log holds ${v.verification.logEvents} ${v.log === "jetstream" ? "JetStream messages" : "documents"}, freshness markers included` : ""}.`
        : "Verification did not run.",
    ]),
    "### Ceilings: the parts alone on this machine",
    "Bold rows are the four parts the ratio compares against; the others explain gaps.",
    ceilingTable(r),
    "### Overload",
    overloadTable(r),
    "### Where the time goes (node --cpu-prof, separate run at the maximum)",
    r.profiles.length > 0 ? profileTables(r) : "_Not profiled in this run._",
    "### Compared with the previous run",
    comparison(r, previous),
  ];
  return parts.filter((p) => p !== "").join("\n\n") + "\n";
};
