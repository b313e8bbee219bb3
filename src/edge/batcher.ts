import { randomUUID } from "node:crypto";
import type { PulseEvent } from "../core/event.js";
import { Unavailable } from "../core/errors.js";
import { visitorPartition } from "../core/partition.js";

/** Proof that JetStream stored a batch: the stream and its sequence number. */
export interface Receipt {
  readonly stream: string;
  readonly seq: number;
}

/** Publishes one batch; resolves with the PubAck. The id lets JetStream drop a retried duplicate. */
export type PublishBatch = (partition: number, payload: Uint8Array, batchId: string) => Promise<Receipt>;

export interface BatcherOptions {
  readonly partitions: number;
  readonly maxEvents: number;
  /** Bytes of event JSON per message; must stay under the NATS server's max_payload (1 MiB by default). */
  readonly maxBytes: number;
  readonly maxDelayMs: number;
  /** Events waiting for a PubAck beyond which new requests are refused rather than queued. */
  readonly maxPending: number;
  readonly publish: PublishBatch;
}

interface OpenBatch {
  readonly id: string;
  readonly events: string[];
  bytes: number;
  readonly done: Promise<Receipt>;
  readonly resolve: (r: Receipt) => void;
  readonly reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

const encoder = new TextEncoder();

/**
 * Groups events per visitor partition into one JetStream message each, flushed by size
 * or after a few milliseconds. JetStream stores about 10k messages/s here whatever their
 * size, so many events per message is what makes high event rates possible.
 */
export class MicroBatcher {
  private readonly open = new Map<number, OpenBatch>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private pendingEvents = 0;
  batchesPublished = 0;

  constructor(private readonly opts: BatcherOptions) {}

  get pending(): number {
    return this.pendingEvents;
  }

  /** Resolves with one receipt per batch holding these events, once every one of them is stored. */
  async add(events: readonly PulseEvent[]): Promise<Receipt[]> {
    if (this.pendingEvents + events.length > this.opts.maxPending)
      throw new Unavailable("overloaded", `ingest backlog is full (${this.pendingEvents} events awaiting storage)`, 1);
    const bySlice = new Map<number, PulseEvent[]>();
    for (const e of events) {
      const p = visitorPartition(e.site, e.visitor, this.opts.partitions);
      const slice = bySlice.get(p);
      if (slice) slice.push(e);
      else bySlice.set(p, [e]);
    }
    this.pendingEvents += events.length;
    const waits: Promise<Receipt>[] = [];
    for (const [p, slice] of bySlice) waits.push(...this.enqueue(p, slice));
    // Events stay pending until every batch holding them has settled, even when one failed early.
    void Promise.allSettled(waits).then(() => (this.pendingEvents -= events.length));
    return [...new Map((await Promise.all(waits)).map((r) => [r.seq, r])).values()];
  }

  /** Publishes everything still open and waits for every publish in flight. */
  async flushAll(): Promise<void> {
    for (const p of [...this.open.keys()]) this.flush(p);
    await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(p: number, slice: readonly PulseEvent[]): Promise<Receipt>[] {
    const waits = new Set<Promise<Receipt>>();
    for (const e of slice) {
      const json = JSON.stringify(e);
      const size = Buffer.byteLength(json) + 1;
      const open = this.open.get(p);
      // Close the open batch first if this event would push it over the byte limit.
      if (open && open.bytes + size > this.opts.maxBytes) this.flush(p);
      const batch = this.open.get(p) ?? this.openBatch(p);
      batch.events.push(json);
      batch.bytes += size;
      waits.add(batch.done);
      if (batch.events.length >= this.opts.maxEvents) this.flush(p);
    }
    return [...waits];
  }

  private openBatch(p: number): OpenBatch {
    let resolve!: (r: Receipt) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<Receipt>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers attach their own handlers; this one keeps an unobserved failure from crashing the process.
    done.catch(() => undefined);
    const batch: OpenBatch = { id: randomUUID(), events: [], bytes: 0, done, resolve, reject, timer: undefined };
    batch.timer = setTimeout(() => this.flush(p), this.opts.maxDelayMs);
    this.open.set(p, batch);
    return batch;
  }

  private flush(p: number): void {
    const batch = this.open.get(p);
    if (!batch) return;
    this.open.delete(p);
    clearTimeout(batch.timer);
    // Events were serialized once on arrival; the message is assembled from those strings.
    const payload = encoder.encode(`{"batch":${JSON.stringify(batch.id)},"events":[${batch.events.join(",")}]}`);
    const sent = this.publishWithRetry(p, payload, batch.id).then(batch.resolve, (e: unknown) =>
      batch.reject(e instanceof Unavailable ? e : new Unavailable("broker_unavailable", `JetStream did not store the batch: ${(e as Error).message}`, 2, { cause: e })),
    );
    this.batchesPublished++;
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  // One retry with the same batch id: JetStream drops it if the first attempt was stored after all.
  private async publishWithRetry(p: number, payload: Uint8Array, id: string): Promise<Receipt> {
    try {
      return await this.opts.publish(p, payload, id);
    } catch {
      return await this.opts.publish(p, payload, id);
    }
  }
}
