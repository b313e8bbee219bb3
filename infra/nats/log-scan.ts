import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import type { EventLog } from "../eventlog/port.js";
import { historyOf, type LogScanner, type ScanChunk, type ScanScope, type VisitorHistory } from "../eventlog/scan.js";
import { siteToken } from "../eventlog/subject.js";
import type { NatsNames } from "./streams.js";

const decoder = new TextDecoder();
// Raw log bytes per spill bucket: a bucket is parsed whole, and parsed events take several times their JSON.
const BUCKET_BYTES = 96 * 1024 * 1024;
const FLUSH_BYTES = 4 * 1024 * 1024;
const FETCH = 10_000;
const CHECKPOINT_EVERY = 20_000;
const VISITORS_PER_CHUNK = 2_000;
// The spill pass is cheap beside the build pass; this splits the progress bar between them.
const SPILL_SHARE = 0.3;

// Each scan spills into a folder of its own, named in its cursor, so that two rebuilds never mix their files.
type Cursor =
  | { readonly phase: "spill"; readonly dir: string; readonly next: number; readonly first: number; readonly sizes: readonly number[] }
  | { readonly phase: "build"; readonly dir: string; readonly bucket: number; readonly buckets: number };

// FNV-1a over the subject: which bucket a visitor's slices go to (the subject names one visitor).
const bucketOf = (subject: string, buckets: number): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
};

/**
 * Reads the JetStream log for a rebuild. The stream is in append order, so one visitor's
 * slices lie all over it: a first pass with an ordered consumer spills each message to a
 * bucket file chosen by its subject (one subject per visitor), a second pass reads one bucket
 * at a time, which then holds its visitors whole. Memory stays bounded by the bucket size.
 */
export const jetstreamLogScanner = (js: JetStreamClient, jsm: JetStreamManager, names: NatsNames, log: EventLog, workDir: string): LogScanner => {
  const filterOf = (scope: ScanScope): string => (scope.site === undefined ? `${names.logSubjectPrefix}.>` : `${names.logSubjectPrefix}.${siteToken(scope.site)}.>`);
  const lastSeq = async (): Promise<number> => (await jsm.streams.info(names.logStream)).state.last_seq;
  const bucketFile = (dir: string, i: number): string => join(workDir, dir, `bucket-${i}.bin`);

  /** Messages of the filter from `from` through `upTo`, in stream order, in batches. */
  async function* messages(filter: string, from: number, upTo: number): AsyncGenerator<JsMsg[]> {
    if (from > upTo) return;
    const consumer = await js.consumers.get(names.logStream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    try {
      for (;;) {
        const batch: JsMsg[] = [];
        let end = false;
        for await (const m of await consumer.fetch({ max_messages: FETCH, expires: 2_000 })) {
          if (m.seq > upTo) {
            end = true;
            break;
          }
          batch.push(m);
          // The last message in range: a fetch left running would wait out its expiry for messages that never come.
          if (m.info.pending === 0 || m.seq === upTo) {
            end = true;
            break;
          }
        }
        if (batch.length > 0) yield batch;
        if (end || batch.length === 0) return;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  async function* spill(filter: string, cursor: Extract<Cursor, { phase: "spill" }>, upTo: number): AsyncGenerator<ScanChunk> {
    const buckets = cursor.sizes.length;
    const dir = cursor.dir;
    await mkdir(join(workDir, dir), { recursive: true });
    const sizes = [...cursor.sizes];
    // What a killed spill wrote after its last checkpoint goes; the messages are read again.
    for (let i = 0; i < buckets; i++) await truncate(bucketFile(dir, i), sizes[i]).catch(async () => (await open(bucketFile(dir, i), "w")).close());
    const files = await Promise.all(Array.from({ length: buckets }, (_, i) => open(bucketFile(dir, i), "a")));
    const pending: Buffer[][] = Array.from({ length: buckets }, () => []);
    const pendingBytes = new Array<number>(buckets).fill(0);
    const flush = async (i: number): Promise<void> => {
      const parts = pending[i] as Buffer[];
      if (parts.length === 0) return;
      const data = Buffer.concat(parts);
      await (files[i] as Awaited<ReturnType<typeof open>>).write(data);
      sizes[i] = (sizes[i] ?? 0) + data.length;
      pending[i] = [];
      pendingBytes[i] = 0;
    };
    try {
      const span = Math.max(1, upTo - cursor.first + 1);
      let sinceCheckpoint = 0;
      let next = cursor.next;
      for await (const batch of messages(filter, cursor.next, upTo)) {
        for (const m of batch) {
          const b = bucketOf(m.subject, buckets);
          const head = Buffer.allocUnsafe(4);
          head.writeUInt32LE(m.data.length);
          (pending[b] as Buffer[]).push(head, Buffer.from(m.data));
          pendingBytes[b] = (pendingBytes[b] ?? 0) + m.data.length + 4;
          if ((pendingBytes[b] ?? 0) > FLUSH_BYTES) await flush(b);
          next = m.seq + 1;
        }
        sinceCheckpoint += batch.length;
        if (sinceCheckpoint >= CHECKPOINT_EVERY) {
          sinceCheckpoint = 0;
          for (let i = 0; i < buckets; i++) await flush(i);
          yield { visitors: [], cursor: { phase: "spill", dir, next, first: cursor.first, sizes: [...sizes] }, checkpoint: true, done: (SPILL_SHARE * (next - cursor.first)) / span, phase: "reading the log" };
        }
      }
      for (let i = 0; i < buckets; i++) await flush(i);
    } finally {
      await Promise.all(files.map((f) => f.close()));
    }
    yield { visitors: [], cursor: { phase: "build", dir, bucket: 0, buckets } satisfies Cursor, checkpoint: true, done: SPILL_SHARE, phase: "reading the log" };
  }

  async function* build(scope: ScanScope, cursor: Extract<Cursor, { phase: "build" }>): AsyncGenerator<ScanChunk> {
    const read = (b: number): Promise<Buffer> => (b < cursor.buckets ? readFile(bucketFile(cursor.dir, b)).catch(() => Buffer.alloc(0)) : Promise.resolve(Buffer.alloc(0)));
    // The next bucket is read from disk while this one is built (two buckets' bytes in memory at most).
    let next = read(cursor.bucket);
    for (let b = cursor.bucket; b < cursor.buckets; b++) {
      const data = await next;
      next = read(b + 1);
      const byVisitor = new Map<string, PulseEvent[]>();
      for (let at = 0; at + 4 <= data.length; ) {
        const len = data.readUInt32LE(at);
        const slice = JSON.parse(decoder.decode(data.subarray(at + 4, at + 4 + len))) as PulseEvent[];
        at += 4 + len;
        for (const e of slice) {
          const key = `${e.site}\u001f${e.visitor}`;
          const list = byVisitor.get(key);
          if (list) list.push(e);
          else byVisitor.set(key, [e]);
        }
      }
      const share = (i: number): number => SPILL_SHARE + ((1 - SPILL_SHARE) * (b + i / Math.max(1, byVisitor.size))) / cursor.buckets;
      let chunk: VisitorHistory[] = [];
      let i = 0;
      for (const [key, events] of byVisitor) {
        i++;
        const [site, visitor] = key.split("\u001f") as [string, string];
        if (scope.site !== undefined && site !== scope.site) continue;
        const h = historyOf(site, visitor, events, scope);
        if (h.events.length > 0) chunk.push(h);
        if (chunk.length >= VISITORS_PER_CHUNK) {
          // Mid-bucket: a resume redoes the whole bucket, so the cursor stays at its start.
          yield { visitors: chunk, cursor: { ...cursor, bucket: b }, checkpoint: false, done: share(i), phase: `building (part ${b + 1} of ${cursor.buckets})` };
          chunk = [];
        }
      }
      yield { visitors: chunk, cursor: { ...cursor, bucket: b + 1 }, checkpoint: true, done: share(byVisitor.size), phase: `building (part ${b + 1} of ${cursor.buckets})` };
    }
    await rm(join(workDir, cursor.dir), { recursive: true, force: true });
  }

  return {
    backend: "jetstream",
    position: lastSeq,
    async *scan(scope, upTo, resume) {
      let cursor = resume as Cursor | undefined;
      if (!cursor) {
        const info = await jsm.streams.info(names.logStream);
        const buckets = Math.max(1, Math.ceil(info.state.bytes / BUCKET_BYTES));
        const first = Math.max(1, info.state.first_seq);
        cursor = { phase: "spill", dir: `scan-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`, next: first, first, sizes: new Array<number>(buckets).fill(0) };
      }
      if (cursor.phase === "spill") {
        let reached: Cursor | undefined;
        for await (const c of spill(filterOf(scope), cursor, upTo)) {
          reached = c.cursor as Cursor;
          yield c;
        }
        if (!reached || reached.phase !== "build") throw new StoreError("jetstream-log", "the spill pass ended without its last step", true);
        cursor = reached;
      }
      yield* build(scope, cursor);
    },
    async changedSince(scope, since) {
      const last = await lastSeq();
      const seen = new Map<string, { site: string; visitor: string }>();
      for await (const batch of messages(filterOf(scope), since + 1, last)) {
        for (const m of batch) {
          if (seen.has(m.subject)) continue;
          const first = (JSON.parse(decoder.decode(m.data)) as PulseEvent[])[0];
          if (first) seen.set(m.subject, { site: first.site, visitor: first.visitor });
        }
      }
      return { visitors: [...seen.values()], position: Math.max(last, since) };
    },
    async readVisitor(scope, site, visitor) {
      return historyOf(site, visitor, await log.readVisitor(site, visitor, scope.fromTs), scope);
    },
    async close() {},
  };
};
