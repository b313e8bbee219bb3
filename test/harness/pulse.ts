import { NO_SHEDDING } from "./shedding.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { startPulse, type RunningPulse } from "../../src/app/pulse.js";
import { loadConfig } from "../../src/config/config.js";
import { connect } from "@nats-io/transport-node";
import { SiteRegistry } from "../../infra/nats/registry.js";
import { natsNames } from "../../infra/nats/streams.js";

export interface TestPulse extends RunningPulse {
  /** A query token for every site of this instance. */
  readonly token: string;
  readonly namespace: string;
  readonly dataDir: string;
  /** Stops Pulse and removes its data folder. */
  dispose(): Promise<void>;
}

let counter = 0;

/** A query token made the way `pulse token create` makes one. */
export const createToken = async (natsUrl: string, namespace: string, sites: readonly string[]): Promise<string> => {
  const nc = await connect({ servers: natsUrl });
  try {
    const registry = await SiteRegistry.open(nc, natsNames(namespace).registryBucket);
    for (const id of sites) await registry.ensureSite({ id, hostnames: [], timezone: "UTC", sessionTimeoutMs: 1_800_000, measurementId: "", ingestSecretHash: "", created: new Date().toISOString() });
    const { token } = await registry.createToken(sites);
    registry.close();
    return token;
  } finally {
    await nc.close();
  }
};

/** A fresh namespace per start, so test files sharing one nats-server and Elasticsearch never see each other's data. */
export const uniqueNamespace = (): string => `t${process.pid}_${Date.now().toString(36)}_${counter++}`;

export const startTestPulse = async (opts: { log: "jetstream" | "elasticsearch"; sites?: string; env?: Record<string, string>; namespace?: string; dataDir?: string }): Promise<TestPulse> => {
  const namespace = opts.namespace ?? uniqueNamespace();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "pulse-test-")));
  const config = loadConfig({
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: "0",
    PULSE_DATA_DIR: dataDir,
    PULSE_NATS_URL: inject("natsUrl"),
    PULSE_NAMESPACE: namespace,
    PULSE_SITES: opts.sites ?? "site-a,site-b",
    ...NO_SHEDDING,
    ...(opts.log === "elasticsearch" ? { PULSE_ELASTICSEARCH_URL: inject("elasticsearchUrl") } : {}),
    ...opts.env,
  });
  const pulse = await startPulse(config);
  const token = await createToken(inject("natsUrl"), namespace, config.sites);
  return {
    ...pulse,
    token,
    namespace,
    dataDir,
    async dispose() {
      await pulse.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};

/** Polls until `check` returns true, or fails with what it last saw. */
export const eventually = async <T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
};

/** Tests send as a tracker in a visitor's browser would: with a browser's User-Agent, which the edge reads for device and bot detection. */
export const BROWSER_HEADERS = {
  "content-type": "application/json",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
} as const;

export const postJson = async (url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(url, { method: "POST", headers: BROWSER_HEADERS, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
};

export const groupBy = <T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> => {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
};
