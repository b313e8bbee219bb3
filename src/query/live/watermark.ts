/** What a work-queue stream holds: acked messages are removed, so `first` is the oldest not yet done. */
export interface QueueState {
  readonly first: number;
  readonly last: number;
  readonly messages: number;
}

/** True when every message with a sequence up to `seq` has been acked (and so removed). */
const doneUpTo = (q: QueueState, seq: number): boolean => q.messages === 0 || q.first > seq;

interface Snapshot {
  /** Wall-clock time taken just before the ingest stream was read. */
  readonly at: number;
  /** Every batch the edge had stored in the ingest stream by `at` has a sequence up to this. */
  readonly ingestLast: number;
  /** Once those batches are processed: every projection message they produced has a sequence up to this. */
  readonly projectionLast: number | undefined;
}

// A stalled pipeline must not grow the list; a dropped snapshot only delays the watermark.
const MAX_SNAPSHOTS = 64;

/**
 * The watermark: the time W such that every event whose batch JetStream had stored by W (so
 * every event whose 2xx the edge sent by W) has been inserted into the analytics store.
 *
 * Both streams are work queues acked only after the next stage is done: a worker acks an ingest
 * batch after its projection rows are stored in the projection stream, and the writer acks a
 * projection message after its insert. So a snapshot taken at `at` (the ingest stream's last
 * sequence S) is complete once the ingest stream has nothing left up to S, and then the
 * projection stream has nothing left up to its last sequence read after that. Observations must
 * read the ingest stream first and the projection stream after it.
 */
export class WatermarkPipeline {
  private snapshots: Snapshot[] = [];
  private value: number | undefined;

  get watermark(): number | undefined {
    return this.value;
  }

  /** Takes a new snapshot and moves older ones on; returns the watermark, which never goes back. */
  observe(at: number, ingest: QueueState, projection: QueueState): number | undefined {
    if (this.snapshots.length < MAX_SNAPSHOTS) this.snapshots.push({ at, ingestLast: ingest.last, projectionLast: undefined });
    this.snapshots = this.snapshots.map((s) => (s.projectionLast === undefined && doneUpTo(ingest, s.ingestLast) ? { ...s, projectionLast: projection.last } : s));
    while (this.snapshots.length > 0) {
      const s = this.snapshots[0] as Snapshot;
      if (s.projectionLast === undefined || !doneUpTo(projection, s.projectionLast)) break;
      this.value = Math.max(this.value ?? s.at, s.at);
      this.snapshots.shift();
    }
    return this.value;
  }
}
