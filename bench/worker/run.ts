import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PulseEvent } from "../../src/core/event.js";
import { visitorPartition } from "../../src/core/partition.js";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { ensureIngestStream, natsNames } from "../../infra/nats/streams.js";

/**
 * Worker benchmark: preloads the ingest stream with many distinct visitors' batches, starts
 * one `pulse worker` (and a separate store process, so the worker's memory is its own), and
 * measures how fast the worker drains the backlog and how large its RSS grows.
 *
 *   node dist/bench/worker/run.js [visitors=1000000] [eventsPerVisitor=2]
 */
const VISITORS = Number(process.argv[2] ?? 1_000_000);
const PER_VISITOR = Number(process.argv[3] ?? 2);
const PARTITIONS = 8;
const BATCH = 512;
const SITE = "bench";
// Visitors arrive spread over one day of event time, in time order, as a day's traffic would.
const DAY_START = Date.UTC(2026, 10, 1);
const DAY_MS = 86_400_000;

const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const say = (line: string): void => console.log(`bench/worker: ${line}`);

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
};

const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const startRole = (env: Record<string, string>, roles: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    // BENCH_PROFILE=<dir> writes a CPU profile of each role there (node --cpu-prof).
    const profile = process.env["BENCH_PROFILE"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROFILE"]}`] : [];
    const child = spawn(process.execPath, [...profile, cli, "start", "--roles", roles], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      if (out.includes("pulse: running:")) process.stderr.write(text.replace(/^/gm, `[${roles}] `));
      out += text;
      if (out.includes("pulse: running:")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`pulse --roles ${roles} exited with ${code}: ${out}`)));
  });

const main = async (): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "pulse-bench-worker-"));
  const nats = await startLocalNats(join(dir, "nats"));
  const namespace = "benchw";
  const names = natsNames(namespace);
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureIngestStream(jsm, names, namespace);

  say(`preloading ${VISITORS.toLocaleString()} visitors x ${PER_VISITOR} events into the ingest stream`);
  const open = new Map<number, PulseEvent[]>();
  let seq = 0;
  let published = 0;
  const flush = async (p: number): Promise<void> => {
    const events = open.get(p) ?? [];
    open.delete(p);
    if (events.length === 0) return;
    await js.publish(names.ingestSubject(p), JSON.stringify({ batch: randomUUID(), events }), { msgID: randomUUID() });
    published += events.length;
  };
  for (let v = 0; v < VISITORS; v++) {
    const visitor = `bv${v}`;
    const p = visitorPartition(SITE, visitor, PARTITIONS);
    const start = DAY_START + Math.floor((v / VISITORS) * DAY_MS);
    const list = open.get(p) ?? [];
    for (let k = 0; k < PER_VISITOR; k++) {
      const ts = start + k * 60_000;
      list.push({ id: `${visitor}-${k}`, site: SITE, visitor, name: "pageview", ts, seq: ++seq, receivedAt: ts, url: `https://bench.example/p${k}`, referrer: "", props: {} });
    }
    open.set(p, list);
    if (list.length >= BATCH) await flush(p);
  }
  for (const p of [...open.keys()]) await flush(p);
  say(`preloaded ${published.toLocaleString()} events`);

  const env = { PULSE_NATS_URL: nats.url, PULSE_NAMESPACE: namespace, PULSE_DATA_DIR: dir, PULSE_PARTITIONS: String(PARTITIONS) };
  const store = await startRole(env, "store");
  const started = Date.now();
  const worker = await startRole(env, "worker");
  const pid = worker.pid as number;
  let peakRss = 0;
  const samples: { s: number; events: number; rss: number }[] = [];
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const info = await jsm.streams.info(names.ingestStream);
    const rss = rssMiB(pid);
    peakRss = Math.max(peakRss, rss);
    const left = info.state.messages;
    samples.push({ s: (Date.now() - started) / 1000, events: published - left * BATCH, rss });
    if (samples.length % 10 === 0) say(`${samples.length} s: ${left} batches left, worker RSS ${rss.toFixed(0)} MiB`);
    if (left === 0) break;
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(pid);
  worker.kill("SIGTERM");
  store.kill("SIGTERM");
  await Promise.all([new Promise((r) => worker.once("exit", r)), new Promise((r) => store.once("exit", r))]);
  await nc.close();
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    visitors: VISITORS,
    events: published,
    seconds: Number(seconds.toFixed(1)),
    eventsPerSecond: Math.round(published / seconds),
    workerCpuSeconds: cpu,
    peakWorkerRssMiB: Math.round(peakRss),
  };
  console.log(JSON.stringify(result, null, 2));
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
