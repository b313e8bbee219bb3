import { totalmem } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../core/errors.js";

/** Every setting Pulse reads. This module is the only reader of `process.env`. */
export interface PulseConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Unset: `pulse start` runs a local `nats-server -js` child under the data dir. */
  readonly natsUrl: string | undefined;
  /** Unset: the event log is a JetStream stream. */
  readonly elasticsearchUrl: string | undefined;
  /** Unset: chDB in-process under the data dir. */
  readonly clickhouseUrl: string | undefined;
  /** What chDB's caches may hold together. */
  readonly chdbCacheMb: number;
  readonly sites: readonly string[];
  readonly ga4Streams: readonly { readonly measurementId: string; readonly site: string; readonly apiSecret: string }[];
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
  readonly keyEvents: readonly string[];
  readonly maxBodyBytes: number;
  readonly trustProxy: boolean;
  readonly siteRateLimit: number;
  readonly batchMaxEvents: number;
  readonly batchMaxBytes: number;
  readonly batchMaxDelayMs: number;
  readonly maxPendingEvents: number;
  readonly maxIngestBacklog: number;
  readonly maxIngestAgeMs: number;
  readonly maxLoopDelayMs: number;
  /** Resident memory of the process beyond which the edge answers 503; 0: off. */
  readonly maxMemoryMb: number;
  readonly leaseTtlMs: number;
  readonly passivateAfterMs: number;
  readonly maxLiveVisitors: number;
  readonly maxSnapshotMb: number;
  readonly maxQueriesPerToken: number;
  /** 0: off; else how often each thread says where its memory is. */
  readonly memoryReportMs: number;
  /** Nice value of every thread but the edge's (0: all as started). */
  readonly backgroundNice: number;
  readonly visitorSalt: string;
  readonly namespace: string;
}

export const ENV_DOC: readonly (readonly [string, string, string])[] = [
  ["PULSE_HTTP_HOST", "0.0.0.0", "address the HTTP/WebSocket edge binds"],
  ["PULSE_HTTP_PORT", "8080", "port of the HTTP/WebSocket edge"],
  ["PULSE_DATA_DIR", "./.pulse-data", "where the embedded nats-server and chDB keep their data"],
  ["PULSE_NATS_URL", "(unset)", "NATS server with JetStream; unset: start a local nats-server child"],
  ["PULSE_ELASTICSEARCH_URL", "(unset)", "Elasticsearch for the event log; unset: the JetStream log stream"],
  ["PULSE_CLICKHOUSE_URL", "(unset)", "ClickHouse server HTTP URL; unset: chDB under the data dir"],
  ["PULSE_CHDB_CACHE_MB", "256", "MiB chDB's caches may hold (marks half, primary indexes and skip-index marks a quarter each); ClickHouse's own defaults are 5 GiB each"],
  ["PULSE_SITES", "demo", "comma-separated site ids that may send events"],
  ["PULSE_GA4_STREAMS", "(none)", "GA4 data streams as measurement_id:site:api_secret, comma-separated (for /mp/collect and /g/collect)"],
  ["PULSE_PARTITIONS", "8", "visitor partitions of the ingest stream"],
  ["PULSE_SESSION_TIMEOUT", "30m", "inactivity that ends a session (ms, or with s/m/h)"],
  ["PULSE_KEY_EVENTS", "purchase,sign_up,signup,generate_lead", "event names counted as key events (conversions)"],
  ["PULSE_TRUST_PROXY", "false", "true behind a proxy that sets X-Forwarded-For: its first address is the client"],
  ["PULSE_SITE_RATE_LIMIT", "10000", "events per second one site may send (bursts of twice that); beyond it, 429 with Retry-After"],
  ["PULSE_MAX_BODY_BYTES", "1048576", "largest accepted request body"],
  ["PULSE_BATCH_MAX_EVENTS", "512", "events per JetStream message before a flush"],
  ["PULSE_BATCH_MAX_BYTES", "524288", "bytes of events per JetStream message; keep under the NATS max_payload (1 MiB)"],
  ["PULSE_BATCH_MAX_DELAY_MS", "2", "longest an event waits at the edge before its batch is flushed"],
  ["PULSE_MAX_PENDING_EVENTS", "200000", "events awaiting PubAck before the edge answers 503"],
  ["PULSE_MAX_INGEST_BACKLOG", "2000", "unprocessed batches in the ingest stream beyond which the edge answers 503"],
  ["PULSE_MAX_INGEST_AGE", "2s", "age of the oldest unprocessed ingest batch beyond which the edge answers 503 (with a Retry-After of the time to drain); takes requests again below half; 0: off"],
  ["PULSE_MAX_LOOP_DELAY", "50ms", "median event-loop delay of the edge over a second beyond which it answers 503 (Retry-After 1); takes requests again below half; 0: off"],
  ["PULSE_MAX_MEMORY_MB", "(75% of the machine's memory)", "resident memory of the process (MiB) beyond which the edge answers 503 (Retry-After 5); takes requests again below 90% of it; 0: off"],
  ["PULSE_LEASE_TTL", "6s", "a worker that stops heartbeating loses its partitions after this long"],
  ["PULSE_PASSIVATE_AFTER", "60s", "a visitor's actor idle this long is stopped and kept as a compact snapshot"],
  ["PULSE_MAX_LIVE_VISITORS", "10000", "live visitor actors per worker beyond which the least recent are passivated (each holds its retained events: about 6 to 15 kB)"],
  ["PULSE_MAX_SNAPSHOT_MB", "128", "MiB of passivated visitor snapshots per worker beyond which the least recent are dropped (they come back through the event log)"],
  ["PULSE_MAX_QUERIES_PER_TOKEN", "16", "queries running plus live subscriptions one query token may have at once, over /ws and HTTP; beyond it, too_many_queries"],
  ["PULSE_MEMORY_REPORT", "0", "every this long (ms, or with s/m/h), each thread logs its memory: RSS, V8 heap, visitor actors and snapshots, chDB's tracked memory and caches; 0: off"],
  ["PULSE_BACKGROUND_NICE", "5", "Linux nice value (0 to 19) of every thread of `pulse start` but the edge's: the worker, chDB's inserts, rollup refreshes and queries yield the CPU to acks (higher: quicker acks, fewer events/s before the edge sheds); 0: all threads at the process's priority"],
  ["PULSE_VISITOR_SALT", "(a random salt per UTC day, kept 48 h)", "fixed salt of derived visitor ids, for tests; unset: daily salts shared through NATS KV"],
  ["PULSE_NAMESPACE", "pulse", "prefix of streams, subjects, indices and tables"],
];

type Env = Readonly<Record<string, string | undefined>>;

const int = (env: Env, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
};

export const parseDuration = (raw: string, name: string): number => {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must look like 1800000, 90s, 30m or 2h, got "${raw}"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"] ?? 1;
  return Number(m[1]) * unit;
};

const url = (env: Env, name: string, protocols: readonly string[]): string | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${raw}"`);
  }
  // "localhost:4222" parses as a URL with scheme "localhost:"; asking for a known scheme catches it.
  if (!protocols.includes(parsed.protocol))
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(" or ")}, got "${raw}"`);
  return raw;
};

const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const loadConfig = (env: Env = process.env, machineMemoryBytes: number = totalmem()): PulseConfig => {
  const dataDir = env["PULSE_DATA_DIR"] || join(process.cwd(), ".pulse-data");
  const sites = (env["PULSE_SITES"] || "demo").split(",").map((s) => s.trim()).filter(Boolean);
  if (sites.length === 0) throw new ConfigError(`PULSE_SITES names no site`);
  for (const s of sites) if (!SITE_ID.test(s)) throw new ConfigError(`PULSE_SITES: "${s}" is not a valid site id`);
  const ga4Streams = (env["PULSE_GA4_STREAMS"] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [measurementId, site, apiSecret, ...rest] = entry.split(":");
      if (!measurementId || !site || !apiSecret || rest.length > 0) throw new ConfigError(`PULSE_GA4_STREAMS: "${entry}" is not measurement_id:site:api_secret`);
      if (!sites.includes(site)) throw new ConfigError(`PULSE_GA4_STREAMS: site "${site}" is not in PULSE_SITES`);
      return { measurementId, site, apiSecret };
    });
  const sessionTimeoutMs = parseDuration(env["PULSE_SESSION_TIMEOUT"] || "30m", "PULSE_SESSION_TIMEOUT");
  const leaseTtlMs = parseDuration(env["PULSE_LEASE_TTL"] || "6s", "PULSE_LEASE_TTL");
  if (leaseTtlMs < 1000) throw new ConfigError(`PULSE_LEASE_TTL must be at least 1s, got "${env["PULSE_LEASE_TTL"] ?? ""}"`);
  if (sessionTimeoutMs < 1000) throw new ConfigError(`PULSE_SESSION_TIMEOUT must be at least 1s, got "${env["PULSE_SESSION_TIMEOUT"] ?? ""}"`);
  const namespace = env["PULSE_NAMESPACE"] || "pulse";
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(namespace)) throw new ConfigError(`PULSE_NAMESPACE must match [a-z][a-z0-9_]*, got "${namespace}"`);
  return {
    httpHost: env["PULSE_HTTP_HOST"] || "0.0.0.0",
    httpPort: int(env, "PULSE_HTTP_PORT", 8080, 0, 65535),
    dataDir,
    natsUrl: url(env, "PULSE_NATS_URL", ["nats:", "tls:", "ws:", "wss:"]),
    elasticsearchUrl: url(env, "PULSE_ELASTICSEARCH_URL", ["http:", "https:"]),
    clickhouseUrl: url(env, "PULSE_CLICKHOUSE_URL", ["http:", "https:"]),
    chdbCacheMb: int(env, "PULSE_CHDB_CACHE_MB", 256),
    sites,
    ga4Streams,
    partitions: int(env, "PULSE_PARTITIONS", 8),
    sessionTimeoutMs,
    keyEvents: (env["PULSE_KEY_EVENTS"] || "purchase,sign_up,signup,generate_lead").split(",").map((s) => s.trim()).filter(Boolean),
    maxBodyBytes: int(env, "PULSE_MAX_BODY_BYTES", 1024 * 1024),
    trustProxy: env["PULSE_TRUST_PROXY"] === "true",
    siteRateLimit: int(env, "PULSE_SITE_RATE_LIMIT", 10_000),
    batchMaxEvents: int(env, "PULSE_BATCH_MAX_EVENTS", 512),
    batchMaxBytes: int(env, "PULSE_BATCH_MAX_BYTES", 512 * 1024, 1024),
    batchMaxDelayMs: int(env, "PULSE_BATCH_MAX_DELAY_MS", 2, 0),
    maxPendingEvents: int(env, "PULSE_MAX_PENDING_EVENTS", 200_000),
    maxIngestBacklog: int(env, "PULSE_MAX_INGEST_BACKLOG", 2000),
    maxIngestAgeMs: parseDuration(env["PULSE_MAX_INGEST_AGE"] || "2s", "PULSE_MAX_INGEST_AGE"),
    maxLoopDelayMs: parseDuration(env["PULSE_MAX_LOOP_DELAY"] || "50ms", "PULSE_MAX_LOOP_DELAY"),
    maxMemoryMb: int(env, "PULSE_MAX_MEMORY_MB", Math.floor((machineMemoryBytes * 0.75) / (1024 * 1024)), 0),
    leaseTtlMs,
    passivateAfterMs: parseDuration(env["PULSE_PASSIVATE_AFTER"] || "60s", "PULSE_PASSIVATE_AFTER"),
    maxLiveVisitors: int(env, "PULSE_MAX_LIVE_VISITORS", 10_000),
    maxSnapshotMb: int(env, "PULSE_MAX_SNAPSHOT_MB", 128, 0),
    maxQueriesPerToken: int(env, "PULSE_MAX_QUERIES_PER_TOKEN", 16),
    memoryReportMs: parseDuration(env["PULSE_MEMORY_REPORT"] || "0", "PULSE_MEMORY_REPORT"),
    backgroundNice: int(env, "PULSE_BACKGROUND_NICE", 5, 0, 19),
    visitorSalt: env["PULSE_VISITOR_SALT"] ?? "",
    namespace,
  };
};

