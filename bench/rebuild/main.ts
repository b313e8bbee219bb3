import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PulseEvent } from "../../src/core/event.js";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { elasticsearchEventLog } from "../../infra/elasticsearch/eventlog.js";
import { elasticsearchLogScanner } from "../../infra/elasticsearch/log-scan.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import type { LogScanner } from "../../infra/eventlog/scan.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { jetstreamLogScanner } from "../../infra/nats/log-scan.js";
import { ensureLogStream, natsNames } from "../../infra/nats/streams.js";
import { progressLine } from "../../src/rebuild/progress.js";
import { runRebuild } from "../../src/rebuild/run.js";
import { repoRoot } from "../config.js";
import { machineInfo } from "../machine.js";
import { startBenchElasticsearch } from "../sut/elasticsearch.js";

/**
 * `make bench-rebuild`: preloads N events straight into each event log (bulk, not through the
 * edge), then times `pulse rebuild` from each, in one process that owns a fresh chDB store, and
 * after it one more read of the log alone (its scanner, nothing built).
 *   BENCH_REBUILD_EVENTS   events to preload (default 2,000,000)
 *   BENCH_REBUILD_SOURCES  jetstream,elasticsearch (default both)
 */
const EVENTS = Number(process.env["BENCH_REBUILD_EVENTS"] ?? 2_000_000);
const SOURCES = (process.env["BENCH_REBUILD_SOURCES"] ?? "jetstream,elasticsearch").split(",").map((s) => s.trim());
const PER_VISITOR = 8;
const CHUNK = 40_000;
const MIN = 60_000;

const say = (line: string): void => {
  process.stderr.write(`bench-rebuild: ${line}\n`);
};

const SITES = ["shop.example", "blog.example", "docs.example"];
const PAGES = ["/", "/pricing", "/blog/a", "/blog/b", "/docs/start", "/docs/api", "/cart", "/checkout"];
const REFERRERS = ["", "", "https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/x"];

/** Visitors of 8 events, a few minutes apart with a long pause in some, spread over 30 days. */
const chunkOf = (from: number, count: number): PulseEvent[] => {
  const t0 = Date.UTC(2026, 9, 1);
  const out: PulseEvent[] = [];
  for (let i = from; i < from + count; i++) {
    const v = Math.floor(i / PER_VISITOR);
    const k = i % PER_VISITOR;
    const site = SITES[v % SITES.length] as string;
    const start = t0 + ((v * 7919) % (30 * 24 * 60)) * MIN;
    const ts = start + k * 3 * MIN + (k >= 4 && v % 3 === 0 ? 40 * MIN : 0);
    out.push({
      id: `e${i}`,
      site,
      visitor: `v${v}`,
      name: k === 7 && v % 5 === 0 ? "purchase" : k % 3 === 2 ? "scroll" : "pageview",
      ts,
      // Received when it happened, as live traffic is: the receive sequences span the 30 days too.
      seq: ts * 1000 + (i % 1000),
      receivedAt: ts,
      url: `https://${site}${PAGES[(v + k) % PAGES.length]}${k === 0 && v % 7 === 0 ? "?utm_source=news&utm_medium=email" : ""}`,
      referrer: k === 0 ? (REFERRERS[v % REFERRERS.length] as string) : "",
      props: k % 3 === 2 ? { depth: 50 } : {},
      context: { browser: v % 2 ? "Chrome" : "Firefox", os: v % 3 ? "Windows" : "Linux", device: v % 4 ? "desktop" : "mobile", country: ["US", "DE", "FR", "GB"][v % 4] as string, region: "", city: "", bot: false },
    });
  }
  return out;
};

const preload = async (log: EventLog, name: string, parallel: number): Promise<number> => {
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let at = 0; at < EVENTS; at += CHUNK) {
    pending.push(log.append(chunkOf(at, Math.min(CHUNK, EVENTS - at))));
    if (pending.length >= parallel) await pending.shift();
    if ((at / CHUNK) % 10 === 0) say(`  ${name}: ${at.toLocaleString("en-US")} events loaded`);
  }
  await Promise.all(pending);
  const seconds = (Date.now() - started) / 1000;
  say(`  ${name}: ${EVENTS.toLocaleString("en-US")} events loaded in ${seconds.toFixed(1)} s`);
  return seconds;
};

/**
 * The log read alone: one full scan in per-visitor order through the same scanner, with no reducer and
 * no store, which bounds what a rebuild from that log can reach on this machine.
 */
const readAlone = async (source: string, scanner: LogScanner): Promise<{ readonly events: number; readonly seconds: number; readonly eventsPerSecond: number }> => {
  const started = Date.now();
  let events = 0;
  const all = { site: undefined, fromTs: 0, toTs: Number.MAX_SAFE_INTEGER };
  for await (const chunk of scanner.scan(all, await scanner.position(), undefined)) for (const h of chunk.visitors) events += h.events.length;
  const seconds = (Date.now() - started) / 1000;
  const eventsPerSecond = Math.round(events / seconds);
  say(`  ${source}: the log read alone (no reducer, no store): ${events.toLocaleString("en-US")} events in ${seconds.toFixed(1)} s, ${eventsPerSecond.toLocaleString("en-US")} events/s`);
  return { events, seconds, eventsPerSecond };
};

interface Result {
  readonly source: string;
  readonly events: number;
  readonly sessions: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly preloadSeconds: number;
  /** The same log read through the same scanner with nothing built, after the rebuild. */
  readonly readAlone: { readonly events: number; readonly seconds: number; readonly eventsPerSecond: number };
}

const rebuildFrom = async (source: string, scanner: LogScanner, chdbPath: string, namespace: string, preloadSeconds: number): Promise<Result> => {
  const store = await openAnalyticsStore({ url: undefined, chdbPath, database: namespace });
  try {
    await store.init();
    let last = 0;
    const started = Date.now();
    const outcome = await runRebuild(
      {
        store,
        namespace,
        scanner,
        timeoutOf: () => 30 * MIN,
        keyEvents: new Set(["purchase"]),
        timeouts: () => ({}),
        setTimeouts: async () => undefined,
        // Each line with the seconds since the rebuild started, which time its phases.
        tell: (news) => {
          const at = `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
          if (news.type === "log") say(`  ${source} ${at}: ${news.line}`);
          else if (Date.now() - last > 5_000) {
            last = Date.now();
            say(`  ${source} ${at}: ${progressLine(news)}`);
          }
        },
      },
      { site: undefined, fromTs: undefined, toTs: undefined, sessionTimeoutMs: undefined, source: scanner.backend, dryRun: false },
    );
    const seconds = (Date.now() - started) / 1000;
    if (outcome.kind !== "built") throw new Error("expected a build");
    // After the rebuild, so that the rebuild's figure is taken as before, on a log nothing had read yet.
    const read = await readAlone(source, scanner);
    return { source, events: outcome.events, sessions: outcome.sessions, seconds, eventsPerSecond: Math.round(outcome.events / seconds), preloadSeconds, readAlone: read };
  } finally {
    await store.close();
  }
};

const main = async (): Promise<void> => {
  const scratch = await mkdtemp(join(tmpdir(), "pulse-bench-rebuild-"));
  const results: Result[] = [];
  let esVersion: string | undefined;
  try {
    say(`${EVENTS.toLocaleString("en-US")} events, ${PER_VISITOR} per visitor, sources ${SOURCES.join(", ")}; scratch ${scratch}`);
    if (SOURCES.includes("jetstream")) {
      const nats = await startLocalNats(join(scratch, "nats"));
      const nc = await connect({ servers: nats.url });
      try {
        const js = jetstream(nc);
        const jsm = await jetstreamManager(nc);
        const names = natsNames("benchjs");
        await ensureLogStream(jsm, names, 60_000);
        const log = jetstreamEventLog(js, jsm, names, 60_000);
        const preloadSeconds = await preload(log, "jetstream", 1);
        results.push(await rebuildFrom("jetstream", jetstreamLogScanner(js, jsm, names, log, join(scratch, "spill")), join(scratch, "chdb-js"), "benchjs", preloadSeconds));
      } finally {
        await nc.close();
        await nats.stop();
      }
    }
    if (SOURCES.includes("elasticsearch")) {
      const es = await startBenchElasticsearch();
      esVersion = es.version;
      try {
        const log = elasticsearchEventLog(es.url, "benches");
        await log.init();
        const preloadSeconds = await preload(log, "elasticsearch", 4);
        const scanner = elasticsearchLogScanner(es.url, "benches", log);
        results.push(await rebuildFrom("elasticsearch", scanner, join(scratch, "chdb-es"), "benches", preloadSeconds));
        await scanner.close();
        await log.close();
      } finally {
        await es.stop();
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const machine = machineInfo(esVersion);
  const goals: Record<string, number> = { jetstream: 200_000, elasticsearch: 100_000 };
  for (const r of results) {
    say(
      `${r.source}: ${r.events.toLocaleString("en-US")} events, ${r.sessions.toLocaleString("en-US")} sessions rebuilt in ${r.seconds.toFixed(1)} s: ${r.eventsPerSecond.toLocaleString("en-US")} events/s (goal ${goals[r.source]?.toLocaleString("en-US")}); the log read alone ${r.readAlone.eventsPerSecond.toLocaleString("en-US")} events/s`,
    );
  }
  const dir = join(repoRoot(), "bench", "results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "rebuild-latest.json"), `${JSON.stringify({ at: new Date().toISOString(), events: EVENTS, perVisitor: PER_VISITOR, machine, results }, null, 2)}\n`);
  say(`results in ${join(dir, "rebuild-latest.json")}`);
};

main().then(
  () => process.exit(0),
  (e: unknown) => {
    say(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
