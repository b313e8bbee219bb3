import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "../config.js";
import type { LoadGenerator } from "../load/driver.js";
import { treeOf, type ProcSampler } from "../observe/procs.js";
import type { Ceiling } from "../report/types.js";

/**
 * The parts of Pulse alone on this machine, each in its own process so that its CPU is
 * measured apart: the bare uWS edge (driven by the same load generator), JetStream, chDB
 * and Elasticsearch.
 */

const script = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

interface ChildRun<T> {
  readonly result: T;
  readonly cpuPct: Readonly<Record<string, number>>;
}

/** Runs a ceiling script as a child; its process tree (e.g. its nats-server) is sampled as "part". */
const runChild = <T>(sampler: ProcSampler, name: string, arg: unknown, timeoutMs: number): Promise<ChildRun<T>> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script(name), JSON.stringify(arg)], { stdio: ["ignore", "pipe", "pipe"] });
    const pid = child.pid ?? -1;
    sampler.add({ name: "part", pids: () => treeOf(pid) });
    const from = Date.now();
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    // The window closes when the result line arrives, before the child's cleanup.
    let cpuPct: Readonly<Record<string, number>> | undefined;
    child.stdout.on("data", () => {
      if (!cpuPct && out.includes("BENCH_RESULT ")) {
        const w = sampler.window(from, Date.now());
        cpuPct = { ...w.cpuPct, other: w.otherCpuPct };
      }
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      sampler.remove("part");
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) {
        reject(new Error(`ceiling ${name} failed (exit ${String(code)}): ${err.slice(-2000)}`));
        return;
      }
      resolve({ result: JSON.parse(line.slice("BENCH_RESULT ".length)) as T, cpuPct: cpuPct ?? {} });
    });
  });

/** The bare uWS server under the same generator, closed loop. */
const uwsCeiling = async (cfg: BenchConfig, gen: LoadGenerator, sampler: ProcSampler): Promise<Ceiling> => {
  const child = spawn(process.execPath, [script("uws-server"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /LISTENING (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`uws-server exited with ${String(code)}`)));
    });
    const pid = child.pid ?? -1;
    sampler.add({ name: "part", pids: () => [pid] });
    gen.reset(`u${Date.now().toString(36)}`, 3);
    const spec = { host: "127.0.0.1", port, mode: "max" as const, eventsPerSec: 0, connections: cfg.connections.max, maxQueueMs: cfg.maxQueueMs };
    await gen.run({ ...spec, name: "uws warm-up", durationMs: 1_000 });
    const from = Date.now();
    const stats = await gen.run({ ...spec, name: "uws", durationMs: Math.max(cfg.ms.ceiling, 3_000) });
    const w = sampler.window(from, Date.now());
    const cpuPct = w.cpuPct;
    const seconds = stats.elapsedMs / 1000;
    return {
      id: "uws",
      part: "uws",
      label: "uWebSockets.js alone: read body, JSON.parse, answer 202 with ids (same load generator, closed loop)",
      value: Math.round(stats.ackedEvents / seconds),
      unit: "events/s",
      eventsPerSec: Math.round(stats.ackedEvents / seconds),
      core: true,
      cpuPct: { server: cpuPct["part"] ?? 0, generator: cpuPct["generator"] ?? 0, other: w.otherCpuPct },
      note: `${Math.round(stats.ackedRequests / seconds)} req/s, p50/p99 ${stats.latency.p50}/${stats.latency.p99} ms`,
    };
  } finally {
    sampler.remove("part");
    child.kill("SIGTERM");
  }
};

interface JetStreamCeiling {
  readonly noAsyncTraces: { eventsPerMessage: number; messagesPerSec: number };
  readonly batched: readonly { eventsPerMessage: number; window: number; messagesPerSec: number; eventsPerSec: number; mbPerSec: number }[];
  readonly logAppend: { eventsPerCall: number; eventsPerSec: number };
  readonly logLookup: { concurrency: number; visitorsPerSec: number };
}

type ChdbInsertFormat = "tsv" | "tsv-encoded" | "objects";

interface ChdbCeiling {
  readonly inserts: readonly { rowsPerInsert: number; format: ChdbInsertFormat; rowsPerSec: number; insertsPerSec: number }[];
}

interface EsCeiling {
  readonly bulk: { eventsPerBulk: number; concurrency: number; eventsPerSec: number };
  readonly visitorLookup: { concurrency: number; visitorsPerSec: number };
  readonly appendThenLookup: { eventsPerAppend: number; lookups: number; roundsPerSec: number };
}

/** The batch size whose JetStream figure counts as the ceiling: "many events per message". */
export const CORE_BATCH = 64;

export const runCeilings = async (
  cfg: BenchConfig,
  gen: LoadGenerator,
  sampler: ProcSampler,
  /** Its processes are sampled as "elasticsearch" by the caller. */
  elasticsearch: { url: string } | undefined,
  parts: readonly Ceiling["part"][],
  say: (line: string) => void,
): Promise<Ceiling[]> => {
  const out: Ceiling[] = [];
  const attempt = async (name: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      say(`  ceiling ${name} failed: ${(e as Error).message.split("\n")[0] ?? ""}`);
    }
  };
  const show = (c: Ceiling): void => {
    out.push(c);
    say(`  ${c.id.padEnd(26)} ${String(c.value).padStart(9)} ${c.unit}${c.note ? `  (${c.note})` : ""}`);
  };

  if (parts.includes("uws")) await attempt("uws", async () => show(await uwsCeiling(cfg, gen, sampler)));

  if (parts.includes("jetstream")) await attempt("jetstream", async () => {
    const sizes = cfg.quick ? [1, CORE_BATCH] : [1, 16, CORE_BATCH, 256];
    const { result: r, cpuPct } = await runChild<JetStreamCeiling>(sampler, "jetstream", { durationMs: cfg.ms.ceiling, sizes }, 300_000);
    const cpu = { "node+nats": cpuPct["part"] ?? 0, other: cpuPct["other"] ?? 0 };
    for (const b of r.batched)
      show({
        id: `jetstream-batch-${b.eventsPerMessage}`,
        part: "jetstream",
        label: `JetStream publish, ${b.eventsPerMessage} event${b.eventsPerMessage > 1 ? "s" : ""} per message, window ${b.window}`,
        value: b.eventsPerSec,
        unit: "events/s",
        eventsPerSec: b.eventsPerSec,
        core: b.eventsPerMessage === CORE_BATCH,
        cpuPct: cpu,
        note: `${b.messagesPerSec} msg/s, ${b.mbPerSec} MB/s`,
      });
    show({
      id: "jetstream-batch-1-no-async-traces",
      part: "jetstream",
      label: "JetStream publish, 1 event per message, connection with noAsyncTraces (what Pulse's connection lacks)",
      value: r.noAsyncTraces.messagesPerSec,
      unit: "events/s",
      eventsPerSec: r.noAsyncTraces.messagesPerSec,
      core: false,
      cpuPct: cpu,
      note: `${r.noAsyncTraces.messagesPerSec} msg/s`,
    });
    show({
      id: "jetstream-log-append",
      part: "jetstream",
      label: `embedded event log append as the worker calls it, ${r.logAppend.eventsPerCall} events of many visitors per call`,
      value: r.logAppend.eventsPerSec,
      unit: "events/s",
      eventsPerSec: r.logAppend.eventsPerSec,
      core: false,
      cpuPct: cpu,
    });
    show({
      id: "jetstream-log-new-visitor",
      part: "jetstream",
      label: `embedded event log: history lookup of a new visitor, ${r.logLookup.concurrency} at a time`,
      value: r.logLookup.visitorsPerSec,
      unit: "visitors/s",
      eventsPerSec: undefined,
      core: false,
      cpuPct: cpu,
    });
  });

  if (parts.includes("chdb")) await attempt("chdb", async () => {
    const sizes = cfg.quick ? [10_000] : [5_000, 50_000];
    const { result: r, cpuPct } = await runChild<ChdbCeiling>(sampler, "chdb", { durationMs: cfg.ms.ceiling, rowsPerInsert: sizes }, 300_000);
    const largest = Math.max(...sizes);
    const kinds: Record<ChdbInsertFormat, { id: string; label: (n: number) => string }> = {
      tsv: { id: "chdb-insert", label: (n) => `chDB insert of event rows as TabSeparated text (as the store writer inserts), ${n} per insert (openAnalyticsStore, no URL)` },
      "tsv-encoded": { id: "chdb-insert-encoded", label: (n) => `chDB insert alone: the same text encoded before the clock starts, ${n} per insert` },
      objects: { id: "chdb-insert-objects", label: (n) => `chDB insert of event rows as objects the client encodes as JSON, ${n} per insert` },
    };
    for (const i of r.inserts)
      show({
        id: `${kinds[i.format].id}-${i.rowsPerInsert}`,
        part: "chdb",
        label: kinds[i.format].label(i.rowsPerInsert),
        value: i.rowsPerSec,
        unit: "events/s",
        eventsPerSec: i.rowsPerSec,
        core: i.format === "tsv" && i.rowsPerInsert === largest,
        cpuPct: { chdb: cpuPct["part"] ?? 0, other: cpuPct["other"] ?? 0 },
        note: `${i.insertsPerSec} inserts/s`,
      });
  });

  if (elasticsearch && parts.includes("elasticsearch")) {
    const es = elasticsearch;
    await attempt("elasticsearch", async () => {
      const { result: r, cpuPct } = await runChild<EsCeiling>(
        sampler,
        "elasticsearch",
        { url: es.url, namespace: `benchceil${Date.now().toString(36)}`, durationMs: Math.max(cfg.ms.ceiling, 3_000), eventsPerBulk: 2_000, concurrency: 2 },
        300_000,
      );
      const cpu = { node: cpuPct["part"] ?? 0, elasticsearch: cpuPct["elasticsearch"] ?? 0, other: cpuPct["other"] ?? 0 };
      show({
        id: "es-bulk",
        part: "elasticsearch",
        label: `Elasticsearch bulk create through the event log, ${r.bulk.eventsPerBulk} events per bulk, ${r.bulk.concurrency} at a time`,
        value: r.bulk.eventsPerSec,
        unit: "events/s",
        eventsPerSec: r.bulk.eventsPerSec,
        core: true,
        cpuPct: cpu,
      });
      show({
        id: "es-new-visitor",
        part: "elasticsearch",
        label: `Elasticsearch event log: history lookup of a new visitor, ${r.visitorLookup.concurrency} at a time`,
        value: r.visitorLookup.visitorsPerSec,
        unit: "visitors/s",
        eventsPerSec: undefined,
        core: false,
        cpuPct: cpu,
      });
      show({
        id: "es-append-then-lookup",
        part: "elasticsearch",
        label: `a worker step in miniature: bulk of ${r.appendThenLookup.eventsPerAppend}, then ${r.appendThenLookup.lookups} lookups (each round refreshes)`,
        value: r.appendThenLookup.roundsPerSec,
        unit: "rounds/s",
        eventsPerSec: undefined,
        core: false,
        cpuPct: cpu,
      });
    });
  }
  return out;
};
