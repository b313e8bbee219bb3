import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { natsNames } from "../../infra/nats/streams.js";
import { postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";

let pulse: TestPulse;
let nc: NatsConnection;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", env: { PULSE_BATCH_MAX_DELAY_MS: "5" } });
  nc = await connect({ servers: inject("natsUrl") });
});
afterAll(async () => {
  await nc?.close();
  await pulse?.dispose();
});

it("packs 1,000 concurrent single-event requests into far fewer JetStream messages, each request answered with its PubAck", async () => {
  const names = natsNames(pulse.namespace);
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info(names.ingestStream)).state.last_seq;
  const responses = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => postJson(`${pulse.url}/collect`, { site: "site-a", name: "pageview", url: `https://a.example/${i}`, visitor: `v${i % 37}`, id: `mb-${i}` })),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(1000).fill(202));
  const seqs = responses.map((r) => {
    const receipts = r.json["receipts"] as { stream: string; seq: number }[];
    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.stream).toBe(names.ingestStream);
    return receipts[0]?.seq ?? 0;
  });
  const batches = new Set(seqs);
  const after = (await jsm.streams.info(names.ingestStream)).state.last_seq;
  // Every receipt names a message this run stored, and the stream grew by exactly the batches receipted.
  expect(Math.min(...seqs)).toBeGreaterThan(before);
  expect(Math.max(...seqs)).toBeLessThanOrEqual(after);
  expect(after - before).toBe(batches.size);
  console.log(`1000 requests -> ${batches.size} JetStream messages`);
  expect(batches.size).toBeLessThan(100);
  expect(pulse.batcher?.batchesPublished).toBe(batches.size);
});

it("answers 503 with Retry-After, not 2xx, when JetStream refuses to store the batch", async () => {
  const names = natsNames(pulse.namespace);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.ingestStream);
  // A real refusal by the server: messages over 16 bytes are rejected by the stream.
  await jsm.streams.update(names.ingestStream, { ...info.config, max_msg_size: 16 });
  try {
    const r = await postJson(`${pulse.url}/collect`, { site: "site-a", name: "pageview", url: "https://a.example/refused", visitor: "v-refused", id: "refused-1" });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("2");
    expect((r.json["error"] as { code: string }).code).toBe("broker_unavailable");
  } finally {
    await jsm.streams.update(names.ingestStream, { ...info.config, max_msg_size: -1 });
  }
  const ok = await postJson(`${pulse.url}/collect`, { site: "site-a", name: "pageview", url: "https://a.example/accepted", visitor: "v-refused", id: "refused-2" });
  expect(ok.status).toBe(202);
  // The refused event never reached the log; the accepted one did.
  await expect.poll(async () => (await pulse.log.readVisitor("site-a", "v-refused", 0)).map((e) => e.id), { timeout: 20_000 }).toEqual(["refused-2"]);
});
