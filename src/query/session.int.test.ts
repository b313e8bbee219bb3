import { expect, it } from "vitest";
import { tempChdbStore } from "../../test/harness/chdb.js";
import { eventRow } from "../worker/projection.js";
import { QueryLimits } from "./limits.js";
import { liveQueries, type LiveQueries } from "./live/hub.js";
import type { ServerMessage } from "./protocol.js";
import { queryService, type QueryService } from "./service.js";
import { openQuerySession } from "./session.js";

// A query session over a real chDB temp.store. The socket is replaced by an outbox whose
// backpressure the test sets: a slow reader cannot be made reliably over loopback.
const temp = tempChdbStore("session_test");

const day = new Date().toISOString().slice(0, 10);
const spec = (site: string) => ({ site, from: day, to: day, metrics: ["pageviews" as const], dimensions: [] });
let n = 0;
const insertPageview = async (site: string): Promise<void> => {
  const now = Date.now();
  const id = `e${n++}`;
  await temp.store.insert("events", [
    eventRow({ event: { id, site, visitor: `v${id}`, name: "pageview", ts: now, seq: n, receivedAt: now, url: `https://${site}/`, referrer: "", props: {} }, sessionId: `s${id}`, source: "", medium: "", channel: "", version: 1 }),
  ]);
};

const setup = (): { live: LiveQueries; runs: () => number; out: ServerMessage[]; backpressure: { on: boolean; onCompute: boolean }; service: QueryService } => {
  // An idle pipeline: both queues empty, so the watermark is the time of each reading.
  const live = liveQueries(async () => ({ ingest: { first: 1, last: 0, messages: 0 }, projection: { first: 1, last: 0, messages: 0 } }), { intervalMs: 20, minGapMs: 0 }, (m) => {
    throw new Error(m);
  });
  // The test writes raw rows only, with no rollup refresher: reports read the raw tables.
  const real = queryService(temp.store, () => ({ timezone: "UTC" }), { keyEvents: [], source: "raw" });
  let runs = 0;
  const backpressure = { on: false, onCompute: false };
  const service: QueryService = {
    ...real,
    compute: (s) => {
      runs++;
      if (backpressure.onCompute) backpressure.on = true;
      return real.compute(s);
    },
  };
  return { live, runs: () => runs, out: [], backpressure, service };
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
};
const dones = (out: readonly ServerMessage[]) => out.filter((m) => m.type === "done");
const lastPageviews = (out: readonly ServerMessage[]): number => {
  const rows = out.filter((m) => m.type === "rows");
  const last = rows.at(-1);
  return last?.type === "rows" ? Number(last.rows[0]?.["pageviews"] ?? 0) : 0;
};

it("runs nothing for a backpressured socket and sends one current answer once it drains", async () => {
  const { live, runs, out, backpressure, service } = setup();
  const session = openQuerySession({ service, live, limits: new QueryLimits(4) }, "t", new Set(["bp.example"]), { send: (m) => out.push(m), backpressured: () => backpressure.on });
  try {
    session.handle({ op: "subscribe", id: "s", query: spec("bp.example") });
    await until(() => dones(out).length === 1);
    const before = runs();

    backpressure.on = true;
    for (let i = 0; i < 5; i++) {
      await insertPageview("bp.example");
      live.flushed(new Set(["bp.example"]), Date.now());
      await sleep(30);
    }
    await sleep(200);
    expect(runs()).toBe(before);
    expect(dones(out)).toHaveLength(1);

    backpressure.on = false;
    session.drained();
    await until(() => dones(out).length === 2);
    await sleep(200);
    // One answer with everything, not one per insert.
    expect(dones(out)).toHaveLength(2);
    expect(dones(out)[1]).toMatchObject({ update: 1, rowCount: 1 });
    expect(lastPageviews(out)).toBe(5);
  } finally {
    session.close();
    live.stop();
  }
});

it("drops an answer that finds the socket backpressured, and sends the current one after the drain", async () => {
  const { live, out, backpressure, service } = setup();
  const session = openQuerySession({ service, live, limits: new QueryLimits(4) }, "t", new Set(["drop.example"]), { send: (m) => out.push(m), backpressured: () => backpressure.on });
  try {
    session.handle({ op: "subscribe", id: "s", query: spec("drop.example") });
    await until(() => dones(out).length === 1);
    // The socket becomes backpressured while the re-run is computing.
    backpressure.onCompute = true;
    await insertPageview("drop.example");
    live.flushed(new Set(["drop.example"]), Date.now());
    await sleep(300);
    expect(dones(out)).toHaveLength(1);

    backpressure.onCompute = false;
    backpressure.on = false;
    session.drained();
    await until(() => dones(out).length === 2);
    expect(lastPageviews(out)).toBe(1);
  } finally {
    session.close();
    live.stop();
  }
});

it("runs nothing when only other sites are written", async () => {
  const { live, runs, out, service } = setup();
  const session = openQuerySession({ service, live, limits: new QueryLimits(4) }, "t", new Set(["quiet.example"]), { send: (m) => out.push(m), backpressured: () => false });
  try {
    session.handle({ op: "subscribe", id: "s", query: spec("quiet.example") });
    await until(() => dones(out).length === 1);
    const before = runs();
    for (let i = 0; i < 3; i++) {
      await insertPageview("loud.example");
      live.flushed(new Set(["loud.example"]), Date.now());
    }
    await sleep(300);
    expect(runs()).toBe(before);
    await insertPageview("quiet.example");
    live.flushed(new Set(["quiet.example", "loud.example"]), Date.now());
    await until(() => dones(out).length === 2);
    expect(runs()).toBe(before + 1);
  } finally {
    session.close();
    live.stop();
  }
});
