import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { PulseConfig } from "../config/config.js";
import { createSequence } from "../core/sequence.js";
import { openAnalyticsStore, type AnalyticsStore } from "../../infra/clickhouse/store.js";
import { elasticsearchEventLog } from "../../infra/elasticsearch/eventlog.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { startLocalNats, type LocalNats } from "../../infra/nats/local-server.js";
import { ensureIngestStream, natsNames } from "../../infra/nats/streams.js";
import { MicroBatcher } from "../edge/batcher.js";
import { startEdge } from "../edge/server.js";
import { queryService } from "../query/service.js";
import { startWorker } from "../worker/worker.js";

export interface RunningPulse {
  readonly url: string;
  readonly natsUrl: string;
  readonly log: EventLog;
  readonly store: AnalyticsStore;
  readonly batcher: MicroBatcher;
  /** Events the worker has logged and projected. */
  readonly processed: () => number;
  /** Graceful stop: no new requests, pending batches published and answered, consumers acked, connections closed. */
  stop(): Promise<void>;
}

type Say = (line: string) => void;

// A derived visitor id must be stable across restarts, so the salt lives with the data.
const visitorSalt = async (config: PulseConfig): Promise<string> => {
  if (config.visitorSalt) return config.visitorSalt;
  const file = join(config.dataDir, "visitor-salt");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const salt = randomBytes(16).toString("hex");
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, salt);
    return salt;
  }
};

/** The composition root: every role of Pulse in one process, wired from one config. */
export const startPulse = async (config: PulseConfig, say: Say = () => undefined): Promise<RunningPulse> => {
  const cleanup: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const f of cleanup.reverse()) await f().catch((e: unknown) => say(`shutdown step failed: ${(e as Error).message}`));
  };
  try {
    let natsUrl = config.natsUrl;
    if (!natsUrl) {
      const local: LocalNats = await startLocalNats(join(config.dataDir, "nats"));
      cleanup.push(local.stop);
      natsUrl = local.url;
      say(`started nats-server at ${natsUrl} (data in ${join(config.dataDir, "nats")})`);
    }
    const nc: NatsConnection = await connect({ servers: natsUrl, name: "pulse", maxReconnectAttempts: -1 });
    cleanup.push(async () => {
      await nc.drain();
    });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const names = natsNames(config.namespace);
    await ensureIngestStream(jsm, names, config.namespace);

    const log = config.elasticsearchUrl
      ? elasticsearchEventLog(config.elasticsearchUrl, config.namespace)
      : jetstreamEventLog(js, jsm, names, 48 * 3_600_000);
    await log.init();
    cleanup.push(() => log.close());
    say(`event log: ${log.backend}${config.elasticsearchUrl ? ` at ${config.elasticsearchUrl}` : ""}`);

    const store = await openAnalyticsStore({ url: config.clickhouseUrl, chdbPath: join(config.dataDir, "chdb"), database: config.namespace });
    await store.init();
    cleanup.push(() => store.close());
    say(`analytics store: ${store.engine}${config.clickhouseUrl ? ` at ${config.clickhouseUrl}` : ` in ${join(config.dataDir, "chdb")}`}`);

    const worker = await startWorker({
      js,
      names,
      log,
      store,
      rules: { timeoutMs: config.sessionTimeoutMs, retainMs: 24 * 3_600_000 },
      hydrateLookbackMs: 24 * 3_600_000,
      report: (message, error) => say(error ? `${message}: ${(error as Error).message}` : message),
    });
    cleanup.push(() => worker.stop());

    const batcher = new MicroBatcher({
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
    const sites = new Set(config.sites);
    const salt = await visitorSalt(config);
    const nextSeq = createSequence(Date.now);
    let draining = false;
    const edge = await startEdge({
      host: config.httpHost,
      port: config.httpPort,
      batcher,
      maxBodyBytes: config.maxBodyBytes,
      context: (ip, userAgent) => ({ receivedAt: Date.now(), ip, userAgent, visitorSalt: salt, nextSeq, isKnownSite: (s) => sites.has(s) }),
      isDraining: () => draining,
      isReady: () => !draining && !nc.isClosed(),
      queries: queryService(store, (s) => sites.has(s)),
      sites: config.sites,
    });
    cleanup.push(async () => {
      draining = true;
      edge.stopListening();
      await batcher.flushAll();
      edge.closeSockets();
    });
    const shown = config.httpHost === "0.0.0.0" ? "127.0.0.1" : config.httpHost;
    return {
      url: `http://${shown}:${edge.port}`,
      natsUrl,
      log,
      store,
      batcher,
      processed: worker.processed,
      stop: undo,
    };
  } catch (e) {
    await undo();
    throw e;
  }
};
