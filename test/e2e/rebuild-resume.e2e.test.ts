import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { ensureLogStream, natsNames } from "../../infra/nats/streams.js";
import type { PulseEvent } from "../../src/core/event.js";
import { uniqueNamespace } from "../harness/pulse.js";
import { runCli } from "./rebuild-scenario.js";

const namespace = uniqueNamespace();
let dataDir: string;
const EVENTS = 300_000;
const MIN = 60_000;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "pulse-rebuild-resume-"));
  // The log filled straight, as a long-running Pulse would have left it: 6 events per visitor, two sites.
  const nc = await connect({ servers: inject("natsUrl") });
  try {
    const names = natsNames(namespace);
    const jsm = await jetstreamManager(nc);
    await ensureLogStream(jsm, names, 60_000);
    const log = jetstreamEventLog(jetstream(nc), jsm, names, 60_000);
    const t0 = Date.UTC(2026, 10, 1);
    for (let at = 0; at < EVENTS; at += 30_000) {
      const chunk: PulseEvent[] = [];
      for (let i = at; i < at + 30_000; i++) {
        const v = Math.floor(i / 6);
        chunk.push({ id: `e${i}`, site: v % 2 ? "a.example" : "b.example", visitor: `v${v}`, name: "pageview", ts: t0 + (v % 5000) * MIN + (i % 6) * (v % 3 === 0 ? 35 : 5) * MIN, seq: i + 1, receivedAt: t0, url: `https://x.example/${i % 6}`, referrer: "", props: { pad: "x".repeat(200) } });
      }
      await log.append(chunk);
    }
  } finally {
    await nc.close();
  }
}, 180_000);
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const env = (): Record<string, string> => ({ PULSE_NAMESPACE: namespace, PULSE_DATA_DIR: dataDir });

it("a rebuild killed halfway resumes from its checkpoint and ends with what an uninterrupted one makes", async () => {
  // No Pulse runs: the command does the work itself. It is killed once it is building, after the log was read.
  const first = runCli(env(), ["rebuild"], (out) => {
    if (out.includes("building (part")) first.kill();
  });
  const killed = await first.done;
  expect(killed.code, killed.out).toBeNull();
  expect(killed.out).not.toContain("rebuilt version");

  const resumed = await runCli(env(), ["rebuild"]).done;
  expect(resumed.code, resumed.out).toBe(0);
  expect(resumed.out).toMatch(/resuming at 30% of the scan/);
  expect(resumed.out).toContain(`rebuilt version 2 (${namespace}_v2): ${EVENTS} events`);

  // The same again, uninterrupted, as version 3.
  const again = await runCli(env(), ["rebuild"]).done;
  expect(again.code, again.out).toBe(0);
  expect(again.out).not.toContain("resuming");

  const status = await runCli(env(), ["status"]).done;
  expect(status.out).toMatch(/active\s+v3 /);

  const store = await openAnalyticsStore({ url: undefined, chdbPath: join(dataDir, "chdb"), database: namespace });
  try {
    const table = (db: string, t: string, key: string) => store.query(`SELECT * FROM ${db}.${t} FINAL ORDER BY ${key}`, {});
    const v2 = `${namespace}_v2`;
    const v3 = `${namespace}_v3`;
    const events2 = await table(v2, "events", "site, event_id");
    expect(events2.length).toBe(EVENTS);
    expect(await table(v3, "events", "site, event_id")).toEqual(events2);
    const sessions2 = await table(v2, "sessions", "site, session_id");
    expect(sessions2.length).toBeGreaterThan(EVENTS / 6);
    expect(await table(v3, "sessions", "site, session_id")).toEqual(sessions2);
  } finally {
    await store.close();
  }
}, 300_000);
