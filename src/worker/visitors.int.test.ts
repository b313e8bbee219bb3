import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { PulseEvent } from "../core/event.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { natsNames } from "../../infra/nats/streams.js";
import type { EventLog } from "../../infra/eventlog/port.js";
import { uniqueNamespace } from "../../test/harness/pulse.js";
import { groupByVisitor, VisitorRegistry } from "./visitors.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
let nc: NatsConnection;
let log: EventLog;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  log = jetstreamEventLog(jetstream(nc), await jetstreamManager(nc), natsNames(uniqueNamespace()), 60_000);
  await log.init();
});
afterAll(() => nc?.close());

let seq = 0;
const ev = (visitor: string, minute: number): PulseEvent => ({ id: `${visitor}-${minute}`, site: "s", visitor, name: "pageview", ts: T0 + minute * MIN, seq: ++seq, receivedAt: 0, url: "https://s.example/", referrer: "", props: {} });

/** What the worker does per step, minus the projections: hydrate, append, ingest. */
const step = async (reg: VisitorRegistry, events: PulseEvent[]) => {
  const slices = groupByVisitor(events);
  await reg.hydrate(slices);
  await log.append(events);
  const results = [...slices].map(([key, slice]) => reg.ingest(key, slice));
  reg.release(slices.keys());
  return results;
};

it("passivates idle visitors to snapshots, restores them without the log, and falls back to the log once a snapshot is dropped", async () => {
  let clock = 0;
  const reg = new VisitorRegistry(log, () => ({ timeoutMs: 30 * MIN, retainMs: 24 * 60 * MIN }), 24 * 60 * MIN, {
    idleMs: 1000,
    maxLive: 2,
    dropAfterMs: 90 * MIN,
    maxSnapshots: 100,
    maxSnapshotBytes: 1024 * 1024,
    now: () => clock,
  });
  const first = await step(reg, [ev("a", 0), ev("b", 0), ev("c", 0)]);
  expect(reg.hydratedFromLog).toBe(3);
  const sessionOf = (r: (typeof first)[number]) => r.touched[0]?.id;
  const [sa, sb, sc] = first.map(sessionOf);

  // Over the live limit: the least recently used goes to a snapshot.
  reg.sweep();
  expect([reg.liveCount, reg.snapshotCount]).toEqual([2, 1]);
  // Idle past the limit: all of them go.
  clock += 1000;
  reg.sweep();
  expect([reg.liveCount, reg.snapshotCount]).toEqual([0, 3]);

  // Back within the session timeout: restored from the snapshot, same session, no log read.
  const back = await step(reg, [ev("a", 10), ev("b", 12)]);
  expect(reg.hydratedFromLog).toBe(3);
  expect(back.map(sessionOf)).toEqual([sa, sb]);
  expect(back[0]?.touched[0]).toMatchObject({ events: 2, pageviews: 2 });

  // Event time moves far ahead. d is new and recent, long after this registry started: no history to read.
  clock += 1000;
  reg.sweep();
  await step(reg, [ev("d", 200)]);
  expect([reg.hydratedFromLog, reg.skippedLogReads]).toEqual([3, 1]);
  // c's snapshot is dropped, and a late event of c comes back through the log.
  reg.sweep();
  expect(reg.snapshotCount).toBeLessThan(3);
  const late = await step(reg, [ev("c", 20)]);
  expect(reg.hydratedFromLog).toBe(4);
  expect(late[0]?.touched[0]).toMatchObject({ id: sc, events: 2 });

  // After taking on new partitions, unknown visitors are read from the log again.
  reg.markCold();
  await step(reg, [ev("e", 201)]);
  expect(reg.hydratedFromLog).toBe(5);
});

it("leaves the visitors of a step in progress live, whatever a sweep between its hydration and its ingest finds", async () => {
  let clock = 0;
  const reg = new VisitorRegistry(log, () => ({ timeoutMs: 30 * MIN, retainMs: 24 * 60 * MIN }), 24 * 60 * MIN, {
    idleMs: 1000,
    maxLive: 1,
    dropAfterMs: 90 * MIN,
    maxSnapshots: 100,
    maxSnapshotBytes: 1024 * 1024,
    now: () => clock,
  });
  const slices = groupByVisitor([ev("p", 0), ev("q", 0), ev("r", 0)]);
  await reg.hydrate(slices);
  // Another partition's step ends here and sweeps: over the live limit and idle, yet all three are in use.
  clock += 5000;
  reg.sweep();
  expect(reg.liveCount).toBe(3);
  for (const [key, slice] of slices) expect(reg.ingest(key, slice).placed).toHaveLength(1);
  reg.release(slices.keys());
  reg.sweep();
  expect([reg.liveCount, reg.snapshotCount]).toEqual([0, 3]);
});

it("places a late event older than the retained day in the session the log gives it, live or from a snapshot", async () => {
  let clock = 0;
  const reg = new VisitorRegistry(log, () => ({ timeoutMs: 30 * MIN, retainMs: 24 * 60 * MIN }), 24 * 60 * MIN, {
    idleMs: 1000,
    maxLive: 100,
    dropAfterMs: 4 * 24 * 60 * MIN,
    maxSnapshots: 100,
    maxSnapshotBytes: 1024 * 1024,
    now: () => clock,
  });
  const DAY = 24 * 60;
  const [old] = await step(reg, [ev("late", 0), ev("late", 10)]);
  const oldId = old?.touched[0]?.id;
  // Two days later: the state keeps only the last 24 hours, the first session is forgotten.
  await step(reg, [ev("late", 2 * DAY)]);
  expect(reg.lateLogReads).toBe(0);
  // A late event 20 minutes into the first session joins it, as the reducer over the log makes it.
  const [joined] = await step(reg, [ev("late", 20)]);
  expect(reg.lateLogReads).toBe(1);
  expect(joined?.touched).toEqual([expect.objectContaining({ id: oldId, events: 3 })]);
  expect(joined?.removed).toEqual([]);
  // The state is back under the retention: the next recent event needs no log read.
  await step(reg, [ev("late", 2 * DAY + 5)]);
  expect(reg.lateLogReads).toBe(1);
  // Passivated, then another late one: the snapshot remembers what it forgot.
  clock += 1000;
  reg.sweep();
  expect(reg.snapshotCount).toBe(1);
  const [again] = await step(reg, [ev("late", 30)]);
  expect(reg.lateLogReads).toBe(2);
  expect(again?.touched).toEqual([expect.objectContaining({ id: oldId, events: 4 })]);
});

it("keeps snapshots within their byte budget: the least recent go, come back through the log in their sessions, and new visitors still need no log read", async () => {
  let clock = 0;
  const policy = { idleMs: 1000, maxLive: 100, dropAfterMs: 90 * MIN, maxSnapshots: 100, maxSnapshotBytes: Number.MAX_SAFE_INTEGER, now: () => clock };
  const reg = new VisitorRegistry(log, () => ({ timeoutMs: 30 * MIN, retainMs: 24 * 60 * MIN }), 24 * 60 * MIN, policy);
  // A first visitor long before: from then on, visitors this registry does not know need no log read.
  await step(reg, [ev("w0", -200)]);
  const first = await step(reg, [ev("v1", 0), ev("v1", 1), ev("v2", 0), ev("v2", 1), ev("v3", 0), ev("v3", 1), ev("v4", 0), ev("v4", 1)]);
  const sessions = first.map((r) => r.touched[0]?.id);
  expect([reg.hydratedFromLog, reg.skippedLogReads]).toEqual([1, 4]);
  clock += 1000;
  reg.sweep();
  expect([reg.liveCount, reg.snapshotCount, reg.evictedCount]).toEqual([0, 4, 0]);
  const all = reg.snapshotBytes;
  expect(all).toBeGreaterThan(0);

  // Room for half of them: the two passivated first go, and are remembered.
  policy.maxSnapshotBytes = all / 2;
  reg.sweep();
  expect([reg.snapshotCount, reg.evictedCount]).toEqual([2, 2]);
  expect(reg.snapshotBytes).toBeLessThanOrEqual(all / 2);

  // A visitor never seen still needs no log read: dropping for room did not make every newcomer suspect.
  await step(reg, [ev("n1", 5)]);
  expect([reg.hydratedFromLog, reg.skippedLogReads]).toEqual([1, 5]);
  // A kept one comes back from its snapshot, an evicted one through the log; both in their sessions.
  const back = await step(reg, [ev("v4", 5), ev("v1", 5)]);
  expect(reg.hydratedFromLog).toBe(2);
  expect(back.map((r) => r.touched[0])).toEqual([expect.objectContaining({ id: sessions[3], events: 3 }), expect.objectContaining({ id: sessions[0], events: 3 })]);
  expect(reg.evictedCount).toBe(1);
});
