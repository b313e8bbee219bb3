import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../core/errors.js";
import { ENV_DOC, loadConfig, parseDuration } from "./config.js";

const configError = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError)._tag).toBe("ConfigError");
    expect((e as ConfigError).retryable).toBe(false);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
};

describe("loadConfig defaults", () => {
  it("uses the documented defaults for an empty environment", () => {
    expect(loadConfig({}, 8 * 1024 * 1024 * 1024)).toEqual({
      httpHost: "0.0.0.0",
      httpPort: 8080,
      dataDir: join(process.cwd(), ".pulse-data"),
      natsUrl: undefined,
      elasticsearchUrl: undefined,
      clickhouseUrl: undefined,
      chdbCacheMb: 256,
      sites: ["demo"],
      ga4Streams: [],
      partitions: 8,
      sessionTimeoutMs: 30 * 60_000,
      keyEvents: ["purchase", "sign_up", "signup", "generate_lead"],
      maxBodyBytes: 1024 * 1024,
      trustProxy: false,
      siteRateLimit: 10_000,
      batchMaxEvents: 512,
      batchMaxBytes: 512 * 1024,
      batchMaxDelayMs: 2,
      maxPendingEvents: 200_000,
      maxIngestBacklog: 2000,
      maxIngestAgeMs: 2000,
      maxLoopDelayMs: 50,
      maxMemoryMb: 6144,
      leaseTtlMs: 6000,
      passivateAfterMs: 60_000,
      maxLiveVisitors: 10_000,
      maxSnapshotMb: 128,
      maxQueriesPerToken: 16,
      memoryReportMs: 0,
      backgroundNice: 5,
      visitorSalt: "",
      namespace: "pulse",
    });
  });

  it("treats empty strings as unset for plain and numeric settings", () => {
    const c = loadConfig({
      PULSE_HTTP_HOST: "",
      PULSE_HTTP_PORT: "",
      PULSE_DATA_DIR: "",
      PULSE_NATS_URL: "",
      PULSE_ELASTICSEARCH_URL: "",
      PULSE_CLICKHOUSE_URL: "",
      PULSE_PARTITIONS: "",
      PULSE_NAMESPACE: "",
      PULSE_SITES: "",
      PULSE_SESSION_TIMEOUT: "",
      PULSE_MAX_INGEST_AGE: "",
      PULSE_MAX_LOOP_DELAY: "",
    });
    expect(c.sites).toEqual(["demo"]);
    expect(c.sessionTimeoutMs).toBe(30 * 60_000);
    expect(c).toMatchObject({ maxIngestAgeMs: 2000, maxLoopDelayMs: 50 });
    expect(c).toMatchObject({ httpHost: "0.0.0.0", httpPort: 8080, natsUrl: undefined, clickhouseUrl: undefined, partitions: 8, namespace: "pulse" });
    expect(c.dataDir).toBe(join(process.cwd(), ".pulse-data"));
  });

  it("refuses shedding limits that are not durations", () => {
    expect(configError(() => loadConfig({ PULSE_MAX_INGEST_AGE: "soon" })).message).toContain("PULSE_MAX_INGEST_AGE");
    expect(configError(() => loadConfig({ PULSE_MAX_LOOP_DELAY: "-5ms" })).message).toContain("PULSE_MAX_LOOP_DELAY");
  });

  it("does not read process.env when given an env object", () => {
    expect(loadConfig({ PULSE_HTTP_PORT: "9999" }).httpPort).toBe(9999);
    expect(loadConfig({}).httpPort).toBe(8080);
  });

  it("documents every setting it reads", () => {
    expect(ENV_DOC.map(([name]) => name)).toEqual([
      "PULSE_HTTP_HOST",
      "PULSE_HTTP_PORT",
      "PULSE_DATA_DIR",
      "PULSE_NATS_URL",
      "PULSE_ELASTICSEARCH_URL",
      "PULSE_CLICKHOUSE_URL",
      "PULSE_CHDB_CACHE_MB",
      "PULSE_SITES",
      "PULSE_GA4_STREAMS",
      "PULSE_PARTITIONS",
      "PULSE_SESSION_TIMEOUT",
      "PULSE_KEY_EVENTS",
      "PULSE_TRUST_PROXY",
      "PULSE_SITE_RATE_LIMIT",
      "PULSE_MAX_BODY_BYTES",
      "PULSE_BATCH_MAX_EVENTS",
      "PULSE_BATCH_MAX_BYTES",
      "PULSE_BATCH_MAX_DELAY_MS",
      "PULSE_MAX_PENDING_EVENTS",
      "PULSE_MAX_INGEST_BACKLOG",
      "PULSE_MAX_INGEST_AGE",
      "PULSE_MAX_LOOP_DELAY",
      "PULSE_MAX_MEMORY_MB",
      "PULSE_LEASE_TTL",
      "PULSE_PASSIVATE_AFTER",
      "PULSE_MAX_LIVE_VISITORS",
      "PULSE_MAX_SNAPSHOT_MB",
      "PULSE_MAX_QUERIES_PER_TOKEN",
      "PULSE_MEMORY_REPORT",
      "PULSE_BACKGROUND_NICE",
      "PULSE_VISITOR_SALT",
      "PULSE_NAMESPACE",
    ]);
  });
});

describe("loadConfig values", () => {
  it("reads every setting", () => {
    const c = loadConfig({
      PULSE_HTTP_HOST: "127.0.0.1",
      PULSE_HTTP_PORT: "0",
      PULSE_DATA_DIR: "/var/lib/pulse",
      PULSE_NATS_URL: "nats://127.0.0.1:4222",
      PULSE_ELASTICSEARCH_URL: "http://es:9200",
      PULSE_CLICKHOUSE_URL: "http://ch:8123",
      PULSE_CHDB_CACHE_MB: "64",
      PULSE_SITES: " shop , blog.example,, docs_v2-1 ",
      PULSE_GA4_STREAMS: "G-ABC123:shop:s3cret",
      PULSE_PARTITIONS: "16",
      PULSE_SESSION_TIMEOUT: "45m",
      PULSE_KEY_EVENTS: "buy, lead",
      PULSE_MAX_BODY_BYTES: "65536",
      PULSE_TRUST_PROXY: "true",
      PULSE_SITE_RATE_LIMIT: "300",
      PULSE_BATCH_MAX_EVENTS: "64",
      PULSE_BATCH_MAX_BYTES: "65536",
      PULSE_BATCH_MAX_DELAY_MS: "0",
      PULSE_MAX_PENDING_EVENTS: "1000",
      PULSE_MAX_INGEST_BACKLOG: "50",
      PULSE_MAX_INGEST_AGE: "500ms",
      PULSE_MAX_LOOP_DELAY: "0",
      PULSE_MAX_MEMORY_MB: "0",
      PULSE_LEASE_TTL: "3s",
      PULSE_PASSIVATE_AFTER: "5s",
      PULSE_MAX_LIVE_VISITORS: "10",
      PULSE_MAX_SNAPSHOT_MB: "0",
      PULSE_MAX_QUERIES_PER_TOKEN: "3",
      PULSE_MEMORY_REPORT: "10s",
      PULSE_BACKGROUND_NICE: "0",
      PULSE_VISITOR_SALT: "pepper",
      PULSE_NAMESPACE: "pulse_test_1",
    });
    expect(c).toEqual({
      httpHost: "127.0.0.1",
      httpPort: 0,
      dataDir: "/var/lib/pulse",
      natsUrl: "nats://127.0.0.1:4222",
      elasticsearchUrl: "http://es:9200",
      clickhouseUrl: "http://ch:8123",
      chdbCacheMb: 64,
      sites: ["shop", "blog.example", "docs_v2-1"],
      ga4Streams: [{ measurementId: "G-ABC123", site: "shop", apiSecret: "s3cret" }],
      partitions: 16,
      sessionTimeoutMs: 45 * 60_000,
      keyEvents: ["buy", "lead"],
      maxBodyBytes: 65536,
      trustProxy: true,
      siteRateLimit: 300,
      batchMaxEvents: 64,
      batchMaxBytes: 65536,
      batchMaxDelayMs: 0,
      maxPendingEvents: 1000,
      maxIngestBacklog: 50,
      maxIngestAgeMs: 500,
      maxLoopDelayMs: 0,
      maxMemoryMb: 0,
      leaseTtlMs: 3000,
      passivateAfterMs: 5000,
      maxLiveVisitors: 10,
      maxSnapshotMb: 0,
      maxQueriesPerToken: 3,
      memoryReportMs: 10_000,
      backgroundNice: 0,
      visitorSalt: "pepper",
      namespace: "pulse_test_1",
    });
  });

  it("accepts a 128-character site id and a 32-character namespace", () => {
    const site = `a${"b".repeat(127)}`;
    const ns = `n${"s".repeat(31)}`;
    const c = loadConfig({ PULSE_SITES: site, PULSE_NAMESPACE: ns });
    expect(c.sites).toEqual([site]);
    expect(c.namespace).toBe(ns);
  });
});

describe("loadConfig errors name the variable", () => {
  it.each([
    ["PULSE_HTTP_PORT", "http"],
    ["PULSE_HTTP_PORT", "-1"],
    ["PULSE_HTTP_PORT", "80.5"],
    ["PULSE_HTTP_PORT", "8080x"],
    ["PULSE_PARTITIONS", "0"],
    ["PULSE_PARTITIONS", "-3"],
    ["PULSE_PARTITIONS", "two"],
    ["PULSE_PARTITIONS", "1.5"],
    ["PULSE_MAX_BODY_BYTES", "0"],
    ["PULSE_MAX_BODY_BYTES", "1MB"],
    ["PULSE_BATCH_MAX_EVENTS", "0"],
    ["PULSE_BATCH_MAX_EVENTS", "NaN"],
    ["PULSE_BATCH_MAX_DELAY_MS", "-1"],
    ["PULSE_BATCH_MAX_DELAY_MS", "2ms"],
    ["PULSE_MAX_PENDING_EVENTS", "0"],
    ["PULSE_MAX_PENDING_EVENTS", "Infinity"],
    ["PULSE_MAX_QUERIES_PER_TOKEN", "0"],
    ["PULSE_MAX_SNAPSHOT_MB", "-1"],
    ["PULSE_MAX_MEMORY_MB", "2GB"],
    ["PULSE_CHDB_CACHE_MB", "0"],
    ["PULSE_MEMORY_REPORT", "often"],
    ["PULSE_NATS_URL", "not a url"],
    ["PULSE_NATS_URL", "127.0.0.1:4222"],
    ["PULSE_ELASTICSEARCH_URL", "http//es:9200"],
    ["PULSE_ELASTICSEARCH_URL", "//es:9200"],
    ["PULSE_CLICKHOUSE_URL", "ch"],
    ["PULSE_SITES", "bad site"],
    ["PULSE_SITES", "-leading-dash"],
    ["PULSE_SITES", "a/b"],
    ["PULSE_SITES", "x".repeat(129)],
    ["PULSE_SITES", "émoji"],
    ["PULSE_NAMESPACE", "Pulse"],
    ["PULSE_NAMESPACE", "1pulse"],
    ["PULSE_NAMESPACE", "pulse-data"],
    ["PULSE_NAMESPACE", "p".repeat(33)],
    ["PULSE_SESSION_TIMEOUT", "30 minutes"],
    ["PULSE_SESSION_TIMEOUT", "1.5h"],
    ["PULSE_SESSION_TIMEOUT", "-30m"],
    ["PULSE_SESSION_TIMEOUT", "30d"],
  ])("refuses %s=%j", (name, value) => {
    const e = configError(() => loadConfig({ [name]: value }));
    expect(e.message).toContain(name);
    expect(e.message).toContain(`"${value}"`);
  });

  it("names the first bad site of a list", () => {
    const e = configError(() => loadConfig({ PULSE_SITES: "shop, bad site ,worse site" }));
    expect(e.message).toContain("PULSE_SITES");
    expect(e.message).toContain('"bad site"');
    expect(e.message).not.toContain("worse");
  });

  it("refuses PULSE_HTTP_PORT above 65535", () => {
    expect(configError(() => loadConfig({ PULSE_HTTP_PORT: "70000" })).message).toContain("PULSE_HTTP_PORT");
  });

  it.each([
    ["PULSE_SITES", " , "],
    ["PULSE_SESSION_TIMEOUT", "0"],
    ["PULSE_SESSION_TIMEOUT", "999ms"],
    ["PULSE_NATS_URL", "localhost:4222"],
    ["PULSE_NATS_URL", "http://127.0.0.1:4222"],
    ["PULSE_ELASTICSEARCH_URL", "es:9200"],
    ["PULSE_CLICKHOUSE_URL", "nats://ch:8123"],
    ["PULSE_BATCH_MAX_BYTES", "100"],
    ["PULSE_LEASE_TTL", "500ms"],
    ["PULSE_GA4_STREAMS", "G-1:demo"],
    ["PULSE_GA4_STREAMS", "G-1:elsewhere:secret"],
  ])("refuses %s=%j", (name, value) => {
    expect(configError(() => loadConfig({ [name]: value })).message).toContain(name);
  });
});

describe("parseDuration", () => {
  it.each([
    ["1800000", 1_800_000],
    ["250ms", 250],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["2h", 7_200_000],
    ["0", 0],
    ["  45s\n", 45_000],
  ])("reads %j as %i ms", (raw, ms) => {
    expect(parseDuration(raw, "X")).toBe(ms);
  });

  it.each([[""], ["  "], ["30 m"], ["1.5h"], ["-5s"], ["30min"], ["h"], ["30M"], ["1d"], ["1e3"], ["0x10"]])("refuses %j with the given name", (raw) => {
    const e = configError(() => parseDuration(raw, "PULSE_SOME_TIMEOUT"));
    expect(e.message).toContain("PULSE_SOME_TIMEOUT");
    expect(e.message).toContain(`"${raw}"`);
  });
});
