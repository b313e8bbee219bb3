import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import type { PulseConfig } from "../config/config.js";
import { createSequence } from "../core/sequence.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { PartitionLeases } from "../../infra/nats/leases.js";
import { SiteRegistry, sha256 } from "../../infra/nats/registry.js";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { ensureIngestStream, ensureProjectionStream, natsNames } from "../../infra/nats/streams.js";
import { startMemoryReport } from "./memory-report.js";
import { watchAdmission } from "../edge/load.js";
import { MicroBatcher } from "../edge/batcher.js";
import { createEnricher } from "../edge/enrich.js";
import { SiteRateLimiter } from "../edge/rate-limit.js";
import { startEdge } from "../edge/server.js";
import { jetstreamProjectionSink } from "../projection/sink.js";
import { startProjectionWriter } from "../projection/writer.js";
import { liveQueries, type LiveQueries } from "../query/live/hub.js";
import { readQueueStates } from "../../infra/nats/queue-state.js";
import { queryService, unavailableQueries } from "../query/service.js";
import { startRebuildService } from "../rebuild/service.js";
import { restoreActiveVersion } from "../rebuild/versions.js";
import { migrateSchema } from "../../infra/clickhouse/migrate.js";
import { startWorker, type Worker } from "../worker/worker.js";
import { startWorkerThread } from "./worker-thread.js";

/** The parts of Pulse a process runs. `pulse start` runs all three. */
export type Role = "edge" | "worker" | "store";
export const ALL_ROLES: readonly Role[] = ["edge", "worker", "store"];

export interface RunningPulse {
  /** The edge's base URL; empty when this process runs no edge. */
  readonly url: string;
  readonly natsUrl: string;
  readonly log: EventLog;
  /** Present in the process that owns the analytics store. */
  readonly store: AnalyticsStore | undefined;
  readonly batcher: MicroBatcher | undefined;
  readonly worker: Worker | undefined;
  /** Present where the store is: whether a site has stored rows its rollups do not reflect yet. */
  readonly rollupsBehind: ((site: string) => boolean) | undefined;
  /** Graceful stop: no new requests, pending batches published and answered, consumers acked, connections closed. */
  stop(): Promise<void>;
}

type Say = (line: string) => void;

// A drain normally takes a few seconds; these bound it when a step cannot finish (for a supervisor's grace period).
const SHUTDOWN_MS = 30_000;
const SHUTDOWN_STEP_MS = 10_000;
const SHUTDOWN_STEP_MIN_MS = 500;

export interface Placement {
  /** Run the worker role on a thread of its own (then `RunningPulse.worker` is undefined). */
  readonly workerThread?: boolean;
}

/** The composition root: the chosen roles of Pulse in one process, wired from one config. */
export const startPulse = async (config: PulseConfig, roles: readonly Role[] = ALL_ROLES, say: Say = () => undefined, placement: Placement = {}): Promise<RunningPulse> => {
  const cleanup: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    const steps = cleanup.reverse();
    const deadline = Date.now() + SHUTDOWN_MS;
    for (const [i, f] of steps.entries()) {
      // A step that waits on a service that went away (NATS killed first) would hold the process forever.
      // Giving up loses nothing: what was not acked is delivered again.
      const limit = Math.max(SHUTDOWN_STEP_MIN_MS, Math.min(SHUTDOWN_STEP_MS, deadline - Date.now()));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), limit)));
      const outcome = await Promise.race([f().then(() => "done" as const, (e: unknown) => say(`shutdown step failed: ${(e as Error).message}`)), late]);
      clearTimeout(timer);
      if (outcome === "late") say(`shutdown step ${i + 1} of ${steps.length} did not finish within ${limit} ms; going on (what it held and did not ack is delivered again)`);
    }
  };
  const has = (r: Role): boolean => roles.includes(r);
  try {
    let natsUrl = config.natsUrl;
    if (!natsUrl) {
      const local = await startLocalNats(join(config.dataDir, "nats"));
      cleanup.push(local.stop);
      natsUrl = local.url;
      say(`started nats-server at ${natsUrl} (data in ${join(config.dataDir, "nats")})`);
    }
    // noAsyncTraces: otherwise nats.js builds two errors with stack traces up front for every request (every publish).
    const nc: NatsConnection = await connect({ servers: natsUrl, name: `pulse ${roles.join("+")}`, maxReconnectAttempts: -1, noAsyncTraces: true });
    cleanup.push(async () => {
      await nc.drain();
    });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const names = natsNames(config.namespace);
    await ensureIngestStream(jsm, names, config.namespace);
    await ensureProjectionStream(jsm, names);

    // Client libraries load only where configured; each costs memory in every process that loads it.
    const log = config.elasticsearchUrl
      ? (await import("../../infra/elasticsearch/eventlog.js")).elasticsearchEventLog(config.elasticsearchUrl, config.namespace)
      : jetstreamEventLog(js, jsm, names, 48 * 3_600_000);
    await log.init();
    cleanup.push(() => log.close());
    say(`event log: ${log.backend}${config.elasticsearchUrl ? ` at ${config.elasticsearchUrl}` : ""}`);

    // One watched copy of the registry per process, shared by the roles that read it.
    const registry = await SiteRegistry.open(nc, names.registryBucket);
    cleanup.push(async () => registry.close());

    let store: AnalyticsStore | undefined;
    let live: LiveQueries | undefined;
    let rollupsBehind: ((site: string) => boolean) | undefined;
    if (has("store")) {
      const { openAnalyticsStore } = await import("../../infra/clickhouse/store.js");
      const opened = await openAnalyticsStore({ url: config.clickhouseUrl, chdbPath: join(config.dataDir, "chdb"), database: config.namespace, chdbCacheBytes: config.chdbCacheMb * 1024 * 1024 });
      store = opened;
      await opened.init();
      cleanup.push(() => opened.close());
      // A rebuild may have made another projection version active.
      await restoreActiveVersion(opened, config.namespace);
      const migration = await migrateSchema(opened, opened.database);
      if (migration.addedColumns.length > 0) say(`analytics store: added ${migration.addedColumns.join(", ")} (rows stored before hold defaults there until \`pulse rebuild\`)`);
      if (migration.remadeTables.length > 0) say(`analytics store: made ${migration.remadeTables.join(", ")} again under the current schema`);
      for (const line of migration.incompatible) say(`analytics store: ${line}; this build cannot change that in place: run \`pulse rebuild\` to rebuild the projections from the event log`);
      say(`analytics store: ${opened.engine}${config.clickhouseUrl ? ` at ${config.clickhouseUrl}` : ` in ${join(config.dataDir, "chdb")}`}`);
      // Live subscriptions are served where the store is: its writer says which sites each insert touched.
      const storeLive = liveQueries(readQueueStates(jsm, names), { intervalMs: 100, minGapMs: 25 }, (message, error) => say(`${message}: ${(error as Error).message}`));
      live = storeLive;
      cleanup.push(async () => storeLive.stop());
      const writer = await startProjectionWriter({
        js,
        stream: names.projectionStream,
        consumer: names.projectionConsumer,
        store: opened,
        maxRows: 50_000,
        maxDelayMs: 100,
        rollupIntervalMs: 1000,
        report: (message, error) => say(error ? `${message}: ${(error as Error).message}` : message),
        live: storeLive,
        recomputeRollups: migration.remadeTables.length > 0,
      });
      cleanup.push(() => writer.stop());
      rollupsBehind = (site) => writer.rollupsBehind(site);
      const rebuilds = startRebuildService({ nc, js, jsm, names, config, store: opened, registry, say, live: true });
      cleanup.push(() => rebuilds.stop());
    }

    let worker: Worker | undefined;
    if (has("worker") && placement.workerThread) {
      const thread = await startWorkerThread({ ...config, natsUrl }, say);
      cleanup.push(() => thread.stop());
    } else if (has("worker")) {
      const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
      // Leases get a connection of their own: behind thousands of queued log writes, a renewal would arrive too late.
      const leaseConnection = await connect({ servers: natsUrl, name: `pulse leases ${workerId}`, maxReconnectAttempts: -1, noAsyncTraces: true });
      cleanup.push(async () => {
        await leaseConnection.drain();
      });
      const leases = await PartitionLeases.open(leaseConnection, names.leaseBucket, workerId, config.partitions, config.leaseTtlMs);
      const keyEvents = new Set(config.keyEvents);
      const started = await startWorker({
        js,
        jsm,
        names,
        leases,
        leaseTickMs: Math.max(250, Math.floor(config.leaseTtlMs / 4)),
        log,
        sink: jetstreamProjectionSink(js, names.projectionSubject),
        // A site's own session timeout from the registry, else the configured one.
        rules: (site) => ({ timeoutMs: registry.site(site)?.sessionTimeoutMs ?? config.sessionTimeoutMs, retainMs: 24 * 3_600_000, keyEvents }),
        hydrateLookbackMs: 24 * 3_600_000,
        passivation: {
          idleMs: config.passivateAfterMs,
          maxLive: config.maxLiveVisitors,
          dropAfterMs: config.sessionTimeoutMs + 3_600_000,
          maxSnapshots: 2_000_000,
          maxSnapshotBytes: config.maxSnapshotMb * 1024 * 1024,
          now: Date.now,
        },
        report: (message, error) => say(error ? `${message}: ${(error as Error).message}` : message),
      });
      worker = started;
      cleanup.push(() => started.stop());
      say(`worker ${workerId} claiming partitions of ${config.partitions}`);
    }

    if (config.memoryReportMs > 0) {
      // A worker on its own thread reports from there.
      const thread = roles.filter((r) => r !== "worker" || !placement.workerThread).join("+");
      const stopReport = startMemoryReport({ everyMs: config.memoryReportMs, thread, say, worker, store });
      cleanup.push(async () => stopReport());
    }

    let url = "";
    let batcher: MicroBatcher | undefined;
    if (has("edge")) {
      const edgeBatcher = new MicroBatcher({
        partitions: config.partitions,
        maxEvents: config.batchMaxEvents,
        maxBytes: config.batchMaxBytes,
        maxDelayMs: config.batchMaxDelayMs,
        maxPending: config.maxPendingEvents,
        publish: async (p, payload, batchId) => {
          const ack = await js.publish(names.ingestSubject(p), payload, { msgID: batchId });
          return { stream: ack.stream, seq: ack.seq };
        },
      });
      batcher = edgeBatcher;
      const admission = watchAdmission({
        jsm,
        stream: names.ingestStream,
        everyMs: 250,
        limits: { maxLoopDelayMs: config.maxLoopDelayMs, maxBacklogAgeMs: config.maxIngestAgeMs, maxBacklogBatches: config.maxIngestBacklog, maxMemoryBytes: config.maxMemoryMb * 1024 * 1024 },
        onError: (e) => say(`reading the ingest backlog failed: ${(e as Error).message}`),
        onChange: (a) => say(a.shedding ? `shedding ingest requests (${a.reason}), Retry-After ${a.retryAfterSeconds} s` : "taking ingest requests again"),
      });
      cleanup.push(async () => admission.stop());
      // Sites and GA4 streams named in the configuration are registered if they are not yet.
      const created = new Date().toISOString();
      for (const id of config.sites) {
        const stream = config.ga4Streams.find((g) => g.site === id);
        await registry.ensureSite({ id, hostnames: [], timezone: "UTC", sessionTimeoutMs: config.sessionTimeoutMs, measurementId: stream?.measurementId ?? "", ingestSecretHash: stream ? sha256(stream.apiSecret) : "", created });
      }
      const today = (): string => new Date().toISOString().slice(0, 10);
      // Derived visitor ids use a salt per UTC day, shared through the registry and deleted after two days.
      let salt = config.visitorSalt || (await registry.salt(today()));
      const saltTimer = setInterval(() => {
        if (!config.visitorSalt) registry.salt(today()).then((s) => (salt = s), (e: unknown) => say(`visitor salt: ${(e as Error).message}`));
      }, 60_000);
      saltTimer.unref();
      cleanup.push(async () => clearInterval(saltTimer));
      const nextSeq = createSequence(Date.now);
      let draining = false;
      const { openGeo } = await import("../enrich/geo.js");
      const enrich = createEnricher(await openGeo());
      const edge = await startEdge({
        host: config.httpHost,
        port: config.httpPort,
        batcher: edgeBatcher,
        maxBodyBytes: config.maxBodyBytes,
        enrich,
        trustProxy: config.trustProxy,
        rateLimiter: new SiteRateLimiter({ perSecond: config.siteRateLimit, burst: 2 * config.siteRateLimit }, Date.now),
        ga4Streams: {
          siteOf: (m) => registry.siteForMeasurementId(m)?.id,
          secretMatches: (m, secret) => registry.siteForGa4(m, secret) !== undefined,
        },
        tokenSites: (t) => registry.tokenSites(t),
        allowedHost: (site, host) => {
          const hosts = registry.site(site)?.hostnames ?? [];
          return hosts.length === 0 || hosts.includes(host);
        },
        context: (ip, userAgent) => ({ receivedAt: Date.now(), ip, userAgent, visitorSalt: salt, nextSeq, isKnownSite: (s) => registry.site(s) !== undefined }),
        isDraining: () => draining,
        refusal: admission.refusal,
        isReady: () => !draining && !nc.isClosed(),
        queries: store ? queryService(store, (s) => registry.site(s), { keyEvents: config.keyEvents, ...(rollupsBehind ? { rollupsBehind } : {}) }) : unavailableQueries,
        live,
        maxQueriesPerToken: config.maxQueriesPerToken,
        sites: config.sites,
      });
      cleanup.push(async () => {
        draining = true;
        edge.stopListening();
        await edgeBatcher.flushAll();
        edge.closeSockets();
      });
      url = `http://${config.httpHost === "0.0.0.0" ? "127.0.0.1" : config.httpHost}:${edge.port}`;
    }
    return { url, natsUrl, log, store, batcher, worker, rollupsBehind, stop: undo };
  } catch (e) {
    await undo();
    throw e;
  }
};
