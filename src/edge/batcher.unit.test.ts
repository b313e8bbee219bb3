import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Unavailable } from "../core/errors.js";
import type { PulseEvent } from "../core/event.js";
import { visitorPartition } from "../core/partition.js";
import { MicroBatcher, type BatcherOptions, type PublishBatch, type Receipt } from "./batcher.js";

const PARTITIONS = 4;
const DELAY = 5;

const event = (id: string, visitor: string): PulseEvent => ({
  id,
  site: "site1",
  visitor,
  name: "pageview",
  ts: 1_700_000_000_000,
  seq: 0,
  receivedAt: 1_700_000_000_000,
  url: "https://example.com/",
  referrer: "",
  props: {},
});

/** A visitor id whose events go to the given partition. */
const visitorOn = (partition: number, skip = 0): string => {
  let found = 0;
  for (let n = 0; ; n++) {
    const v = `visitor-${n}`;
    if (visitorPartition("site1", v, PARTITIONS) === partition && found++ === skip) return v;
  }
};

interface Call {
  readonly partition: number;
  readonly batchId: string;
  readonly payload: Uint8Array;
  readonly body: { batch: string; events: PulseEvent[] };
}

const decode = (payload: Uint8Array): Call["body"] => JSON.parse(new TextDecoder().decode(payload)) as Call["body"];

/** Publishes into memory and acknowledges at once with increasing sequence numbers. */
const recorder = () => {
  const calls: Call[] = [];
  let seq = 0;
  const publish: PublishBatch = async (partition, payload, batchId) => {
    calls.push({ partition, batchId, payload, body: decode(payload) });
    return { stream: "ingest", seq: ++seq };
  };
  return { calls, publish };
};

/** Publishes into memory and acknowledges only when the test says so. */
const manual = () => {
  const calls: (Call & { ack: (seq: number) => void; fail: (e: Error) => void })[] = [];
  const publish: PublishBatch = (partition, payload, batchId) =>
    new Promise<Receipt>((resolve, reject) => {
      calls.push({ partition, batchId, payload, body: decode(payload), ack: (seq) => resolve({ stream: "ingest", seq }), fail: reject });
    });
  return { calls, publish };
};

const batcher = (publish: PublishBatch, o: Partial<Omit<BatcherOptions, "publish">> = {}): MicroBatcher =>
  new MicroBatcher({ partitions: PARTITIONS, maxEvents: 100, maxBytes: 512 * 1024, maxDelayMs: DELAY, maxPending: 10_000, publish, ...o });

/** Lets pending promise callbacks run (setImmediate is not faked). */
const tick = () => new Promise<void>((r) => setImmediate(r));

const track = <T,>(p: Promise<T>) => {
  const s: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => {
      s.done = true;
      s.value = v;
    },
    (e: unknown) => {
      s.done = true;
      s.error = e;
    },
  );
  return s;
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("grouping", () => {
  it("turns many single-event adds within the delay into one publish per partition", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish);
    const visitors = [visitorOn(0), visitorOn(1), visitorOn(3), visitorOn(0, 1)];
    const adds = Array.from({ length: 20 }, (_, i) => b.add([event(`e${i}`, visitors[i % visitors.length] as string)]));
    await vi.advanceTimersByTimeAsync(DELAY - 1);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const receipts = await Promise.all(adds);
    expect(calls.map((c) => c.partition).sort()).toEqual([0, 1, 3]);
    expect(b.batchesPublished).toBe(3);
    const p0 = calls.find((c) => c.partition === 0) as Call;
    // Both partition-0 visitors, in add order.
    expect(p0.body.events.map((e) => e.id)).toEqual(["e0", "e3", "e4", "e7", "e8", "e11", "e12", "e15", "e16", "e19"]);
    for (const c of calls) expect(c.body.events.every((e) => visitorPartition(e.site, e.visitor, PARTITIONS) === c.partition)).toBe(true);
    expect(calls.reduce((n, c) => n + c.body.events.length, 0)).toBe(20);
    // Each request gets the receipt of the batch that holds its event.
    receipts.forEach((r, i) => {
      const holder = calls.findIndex((c) => c.body.events.some((e) => e.id === `e${i}`));
      expect(r).toEqual([{ stream: "ingest", seq: holder + 1 }]);
    });
    expect(b.pending).toBe(0);
  });

  it("puts the batch id in the payload and uses a new id per batch", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish);
    const first = b.add([event("a", visitorOn(2))]);
    await vi.advanceTimersByTimeAsync(DELAY);
    await first;
    const second = b.add([event("b", visitorOn(2))]);
    await vi.advanceTimersByTimeAsync(DELAY);
    await second;
    expect(calls).toHaveLength(2);
    for (const c of calls) expect(c.body.batch).toBe(c.batchId);
    expect(calls[0]?.batchId).not.toBe(calls[1]?.batchId);
    expect(calls[0]?.body.events).toEqual([event("a", visitorOn(2))]);
  });

  it("resolves an empty add with no receipts and publishes nothing", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish);
    await expect(b.add([])).resolves.toEqual([]);
    await b.flushAll();
    expect(calls).toHaveLength(0);
  });
});

describe("maxEvents", () => {
  it("splits a large request into full batches published at once and a rest published after the delay", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish, { maxEvents: 3 });
    const v = visitorOn(1);
    const done = track(b.add(Array.from({ length: 7 }, (_, i) => event(`e${i}`, v))));
    await tick();
    expect(calls.map((c) => c.body.events.map((e) => e.id))).toEqual([
      ["e0", "e1", "e2"],
      ["e3", "e4", "e5"],
    ]);
    expect(done.done).toBe(false);
    await vi.advanceTimersByTimeAsync(DELAY);
    await tick();
    expect(calls.map((c) => c.body.events.length)).toEqual([3, 3, 1]);
    expect(done.done).toBe(true);
    expect(done.value).toEqual([
      { stream: "ingest", seq: 1 },
      { stream: "ingest", seq: 2 },
      { stream: "ingest", seq: 3 },
    ]);
  });

  it("fills a batch across requests and flushes it as soon as it is full", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish, { maxEvents: 3 });
    const v = visitorOn(0);
    const first = track(b.add([event("a", v), event("b", v)]));
    const second = track(b.add([event("c", v), event("d", v)]));
    await tick();
    expect(calls.map((c) => c.body.events.map((e) => e.id))).toEqual([["a", "b", "c"]]);
    expect(first.done).toBe(true);
    expect(first.value).toEqual([{ stream: "ingest", seq: 1 }]);
    expect(second.done).toBe(false);
    await vi.advanceTimersByTimeAsync(DELAY);
    await tick();
    expect(calls.map((c) => c.body.events.map((e) => e.id))).toEqual([["a", "b", "c"], ["d"]]);
    expect(second.value).toEqual([
      { stream: "ingest", seq: 1 },
      { stream: "ingest", seq: 2 },
    ]);
  });
});

describe("acknowledgement", () => {
  it("resolves a request only after every batch holding its events is stored", async () => {
    const { calls, publish } = manual();
    const b = batcher(publish, { maxEvents: 2 });
    const v0 = visitorOn(0);
    const v3 = visitorOn(3);
    const req = track(b.add([event("a", v0), event("b", v0), event("c", v0), event("d", v3)]));
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(calls.map((c) => [c.partition, c.body.events.map((e) => e.id)])).toEqual([
      [0, ["a", "b"]],
      [0, ["c"]],
      [3, ["d"]],
    ]);
    calls[2]?.ack(30);
    await tick();
    expect(req.done).toBe(false);
    calls[0]?.ack(10);
    await tick();
    expect(req.done).toBe(false);
    expect(b.pending).toBe(4);
    calls[1]?.ack(20);
    await tick();
    expect(req.done).toBe(true);
    expect(req.error).toBeUndefined();
    expect(req.value?.map((r) => r.seq).sort()).toEqual([10, 20, 30]);
    expect(b.pending).toBe(0);
  });

  it("resolves each request of a shared batch when that batch is stored", async () => {
    const { calls, publish } = manual();
    const b = batcher(publish);
    const v = visitorOn(2);
    const r1 = track(b.add([event("a", v)]));
    const r2 = track(b.add([event("b", v)]));
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(calls).toHaveLength(1);
    expect(r1.done || r2.done).toBe(false);
    calls[0]?.ack(7);
    await tick();
    expect(r1.value).toEqual([{ stream: "ingest", seq: 7 }]);
    expect(r2.value).toEqual([{ stream: "ingest", seq: 7 }]);
  });
});

describe("retry", () => {
  it("retries a failed publish once with the same batch id and payload", async () => {
    let attempts = 0;
    const calls: { batchId: string; payload: Uint8Array }[] = [];
    const publish: PublishBatch = async (_p, payload, batchId) => {
      calls.push({ batchId, payload });
      if (++attempts === 1) throw new Error("timeout");
      return { stream: "ingest", seq: 99 };
    };
    const b = batcher(publish);
    const req = b.add([event("a", visitorOn(1))]);
    await vi.advanceTimersByTimeAsync(DELAY);
    await expect(req).resolves.toEqual([{ stream: "ingest", seq: 99 }]);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.batchId).toBe(calls[0]?.batchId);
    expect(calls[1]?.payload).toEqual(calls[0]?.payload);
    expect(decode(calls[1]?.payload as Uint8Array).batch).toBe(calls[0]?.batchId);
  });

  it("rejects every caller of a batch with Unavailable when the publish fails twice", async () => {
    const calls: string[] = [];
    const cause = new Error("no responders");
    const publish: PublishBatch = async (_p, _payload, batchId) => {
      calls.push(batchId);
      throw cause;
    };
    const b = batcher(publish);
    const v = visitorOn(0);
    const r1 = b.add([event("a", v)]);
    const r2 = b.add([event("b", v)]);
    const errors = Promise.allSettled([r1, r2]);
    await vi.advanceTimersByTimeAsync(DELAY);
    const settled = await errors;
    expect(calls).toHaveLength(2);
    expect(calls[0]).toBe(calls[1]);
    for (const s of settled) {
      expect(s.status).toBe("rejected");
      const e = (s as PromiseRejectedResult).reason as Unavailable;
      expect(e).toBeInstanceOf(Unavailable);
      expect(e.code).toBe("broker_unavailable");
      expect(e.retryable).toBe(true);
      expect(e.message).toContain("no responders");
      expect(e.cause).toBe(cause);
    }
    expect(b.pending).toBe(0);
  });

  it("passes an Unavailable from the publisher through unchanged", async () => {
    const own = new Unavailable("stream_full", "stream is full", 5);
    const publish: PublishBatch = async () => {
      throw own;
    };
    const b = batcher(publish);
    const req = b.add([event("a", visitorOn(0))]);
    const settled = Promise.allSettled([req]);
    await vi.advanceTimersByTimeAsync(DELAY);
    const [s] = await settled;
    expect((s as PromiseRejectedResult).reason).toBe(own);
  });
});

describe("backpressure", () => {
  it("refuses a request with Unavailable overloaded when it would exceed maxPending", async () => {
    const { calls, publish } = manual();
    const b = batcher(publish, { maxPending: 5 });
    const v = visitorOn(1);
    const first = track(b.add([event("a", v), event("b", v), event("c", v)]));
    expect(b.pending).toBe(3);
    const refused = b.add([event("d", v), event("e", v), event("f", v)]);
    await expect(refused).rejects.toBeInstanceOf(Unavailable);
    await expect(refused).rejects.toMatchObject({ code: "overloaded", retryable: true });
    expect(b.pending).toBe(3);
    // Up to the limit is still taken.
    const fits = track(b.add([event("g", v), event("h", v)]));
    expect(b.pending).toBe(5);
    await expect(b.add([event("i", v)])).rejects.toMatchObject({ code: "overloaded" });
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body.events.map((e) => e.id)).toEqual(["a", "b", "c", "g", "h"]);
    calls[0]?.ack(1);
    await tick();
    expect(first.done && fits.done).toBe(true);
    expect(b.pending).toBe(0);
    // Room again once stored.
    const later = b.add([event("j", v), event("k", v), event("l", v)]);
    await vi.advanceTimersByTimeAsync(DELAY);
    calls[1]?.ack(2);
    await expect(later).resolves.toEqual([{ stream: "ingest", seq: 2 }]);
  });

  it("refuses a single request larger than maxPending without publishing anything", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish, { maxPending: 2 });
    const v = visitorOn(0);
    await expect(b.add([event("a", v), event("b", v), event("c", v)])).rejects.toMatchObject({ code: "overloaded" });
    await b.flushAll();
    expect(calls).toHaveLength(0);
    expect(b.pending).toBe(0);
  });
});

describe("flushAll", () => {
  it("publishes open batches at once and waits until they are stored", async () => {
    const { calls, publish } = manual();
    const b = batcher(publish, { maxDelayMs: 60_000 });
    const req = track(b.add([event("a", visitorOn(0)), event("b", visitorOn(2))]));
    expect(calls).toHaveLength(0);
    const flushed = track(b.flushAll());
    await tick();
    expect(calls.map((c) => c.partition).sort()).toEqual([0, 2]);
    expect(flushed.done).toBe(false);
    for (const [i, c] of calls.entries()) c.ack(i + 1);
    await tick();
    expect(flushed.done).toBe(true);
    expect(req.done).toBe(true);
    expect(req.value?.map((r) => r.seq).sort()).toEqual([1, 2]);
    // The timers of flushed batches do not publish them again.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
    expect(b.batchesPublished).toBe(2);
  });

  it("resolves even when a publish fails", async () => {
    const publish: PublishBatch = async () => {
      throw new Error("down");
    };
    const b = batcher(publish);
    const req = b.add([event("a", visitorOn(0))]);
    const settled = Promise.allSettled([req]);
    await expect(b.flushAll()).resolves.toBeUndefined();
    expect((await settled)[0]?.status).toBe("rejected");
  });
});

describe("pending accounting", () => {
  it("keeps a failed request's events pending until every batch holding them has settled", async () => {
    const { calls, publish } = manual();
    const b = batcher(publish, { maxEvents: 1 });
    const v = visitorOn(0);
    const req = Promise.allSettled([b.add([event("a", v), event("b", v)])]);
    await tick();
    // Batch [a] fails twice (first try and retry); batch [b] is still in flight.
    calls[0]?.fail(new Error("down"));
    await tick();
    calls[2]?.fail(new Error("down"));
    const [r] = await req;
    expect(r?.status).toBe("rejected");
    expect(calls[1]?.body.events.map((e) => e.id)).toEqual(["b"]);
    expect(b.pending).toBe(2);
    calls[1]?.ack(7);
    await tick();
    expect(b.pending).toBe(0);
  });
});

describe("byte limit", () => {
  it("starts a new message before one would exceed maxBytes, so NATS never refuses a batch for its size", async () => {
    const { calls, publish } = recorder();
    const b = batcher(publish, { maxBytes: 2048 });
    const v = visitorOn(0);
    const events = Array.from({ length: 10 }, (_, i) => ({ ...event(`e${i}`, v), url: `https://example.com/${"x".repeat(500)}` }));
    const receipts = b.add(events);
    await vi.advanceTimersByTimeAsync(DELAY);
    await receipts;
    expect(calls.length).toBeGreaterThan(2);
    for (const c of calls) expect(c.payload.byteLength).toBeLessThanOrEqual(2048 + 64);
    expect(calls.flatMap((c) => c.body.events.map((e) => e.id))).toEqual(events.map((e) => e.id));
  });
});
