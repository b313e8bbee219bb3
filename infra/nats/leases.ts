import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

/** Each live worker's fair number of partitions. */
export const fairShare = (partitions: number, liveWorkers: number): number => Math.ceil(partitions / Math.max(1, liveWorkers));

/**
 * Which partitions to claim and which to give up so that this worker holds its fair share.
 * Pure: the caller supplies what it owns, what is free and the share.
 */
export const planLeases = (owned: readonly number[], free: readonly number[], fair: number): { claim: number[]; release: number[] } => {
  const sortedOwned = [...owned].sort((a, b) => a - b);
  if (sortedOwned.length > fair) return { claim: [], release: sortedOwned.slice(fair) };
  return { claim: [...free].sort((a, b) => a - b).slice(0, fair - sortedOwned.length), release: [] };
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface LeaseChanges {
  readonly lost: readonly number[];
  readonly acquired: readonly number[];
  readonly release: readonly number[];
}

/**
 * Partition ownership in NATS KV. A lease is a key `p.<n>` holding the owner's id in a
 * bucket whose entries expire after `ttlMs`; the owner renews it with a compare-and-set
 * well before then. A worker that stops heartbeating loses its leases when they expire,
 * and the others claim them. Live workers announce themselves under `w.<id>` the same way,
 * which is how each one knows its fair share.
 */
export class PartitionLeases {
  private readonly owned = new Map<number, number>();

  private constructor(
    private readonly kv: KV,
    readonly workerId: string,
    private readonly partitions: number,
  ) {}

  static async open(nc: NatsConnection, bucket: string, workerId: string, partitions: number, ttlMs: number): Promise<PartitionLeases> {
    const kv = await new Kvm(nc).create(bucket, { ttl: ttlMs, history: 1 });
    return new PartitionLeases(kv, workerId, partitions);
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Renews what this worker holds, then claims or frees partitions toward its fair share. */
  async tick(): Promise<LeaseChanges> {
    await this.kv.put(`w.${this.workerId}`, encoder.encode(String(Date.now())));
    const lost: number[] = [];
    for (const [p, revision] of this.owned) {
      try {
        this.owned.set(p, await this.kv.update(`p.${p}`, encoder.encode(this.workerId), revision));
      } catch {
        // Expired, or another worker holds it now: stop working on it at once.
        this.owned.delete(p);
        lost.push(p);
      }
    }
    const holders = new Map<number, string>();
    const acquired: number[] = [];
    let workers = 0;
    for await (const key of await this.kv.keys()) {
      if (key.startsWith("w.")) workers++;
      else if (key.startsWith("p.")) {
        const e = await this.kv.get(key);
        if (!e || e.operation !== "PUT") continue;
        const p = Number(key.slice(2));
        const holder = decoder.decode(e.value);
        holders.set(p, holder);
        // A renewal that timed out while the server was busy may still have landed: the lease is ours, take it back.
        if (holder === this.workerId && !this.owned.has(p)) {
          this.owned.set(p, e.revision);
          acquired.push(p);
        }
      }
    }
    const free = Array.from({ length: this.partitions }, (_, p) => p).filter((p) => !holders.has(p));
    const plan = planLeases(this.ownedPartitions(), free, fairShare(this.partitions, workers));
    for (const p of plan.claim) {
      try {
        this.owned.set(p, await this.kv.create(`p.${p}`, encoder.encode(this.workerId)));
        acquired.push(p);
      } catch {
        // Another worker claimed it between our listing and our create.
      }
    }
    return { lost, acquired, release: plan.release };
  }

  /** Gives a partition up; call after its consumer has stopped and its work is acked. */
  async release(p: number): Promise<void> {
    const revision = this.owned.get(p);
    this.owned.delete(p);
    if (revision !== undefined) await this.kv.delete(`p.${p}`, { previousSeq: revision }).catch(() => undefined);
  }

  /** On a clean stop: hand every partition over at once instead of waiting for expiry. */
  async releaseAll(): Promise<void> {
    for (const p of this.ownedPartitions()) await this.release(p);
    await this.kv.delete(`w.${this.workerId}`).catch(() => undefined);
  }
}
