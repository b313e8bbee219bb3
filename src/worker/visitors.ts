import { ingestSlice, passivate, spawnVisitor, type VisitorActor } from "../../actors/session/machine.js";
import type { IngestResult, SessionRules } from "../../actors/session/reducer.js";
import type { PulseEvent } from "../core/event.js";
import { visitorKey } from "../core/partition.js";
import type { EventLog } from "../../infra/eventlog/port.js";

export interface PassivationPolicy {
  /** A live actor untouched this long (worker clock) is passivated. */
  readonly idleMs: number;
  /** Live actors beyond this many are passivated, least recently used first. */
  readonly maxLive: number;
  /** Snapshots whose newest event is this far behind the newest event seen are dropped; the log has them. */
  readonly dropAfterMs: number;
  /** Snapshots kept at most, the least recently used going first; as many visitors whose snapshot went for room are remembered. */
  readonly maxSnapshots: number;
  /** Bytes of retained events the snapshots may hold together; beyond it the least recently used go first. */
  readonly maxSnapshotBytes: number;
  readonly now: () => number;
}

interface Live {
  readonly actor: VisitorActor;
  lastUsed: number;
  /**
   * Event time from which the state places a new event as the whole log would: events before it
   * may belong to sessions the state never read (hydrated from a bounded lookback) or forgot (the
   * reducer keeps a visitor's last 24 hours). A slice reaching back before it is hydrated from the log.
   */
  from: number;
  /** Spawned without retention to place a late slice; `ingest` brings it back to the site's rules. */
  readonly wide?: boolean;
}

interface Snapshot {
  /** The retained events as JSON: about a third of the memory of the objects. */
  readonly events: Buffer;
  readonly newestTs: number;
  readonly from: number;
}

/**
 * The visitors of one worker. Each has an xstate actor while active; an idle one is
 * passivated to a compact snapshot, and a snapshot far behind in event time is dropped.
 * A visitor with neither is hydrated from the log, so dropping is always safe, only slower.
 */
export class VisitorRegistry {
  // Both maps are kept in least-recently-used order: a touched entry is moved to the end.
  private readonly live = new Map<string, Live>();
  private readonly snapshots = new Map<string, Snapshot>();
  /**
   * Visitors whose snapshot was dropped for room rather than age, with their newest event time: a
   * few bytes each instead of a snapshot's kilobytes. They come back through the log, while new
   * visitors still need no log read.
   */
  private readonly evicted = new Map<string, number>();
  /** Visitors of steps in progress: hydrated, not yet ingested. Sweeps, which run between other partitions' steps, leave them live. */
  private readonly pinned = new Set<string>();
  private snapshotSize = 0;
  private watermark = Number.NEGATIVE_INFINITY;
  /**
   * Event time after which a visitor this registry does not know has no recent history: every
   * visitor active since then is live or in a snapshot. Unknown until the first events after
   * the registry started or took on new partitions; then the newest event time plus the drop
   * horizon. Pushed later whenever state that recent is thrown away.
   */
  private warmAfter = Number.POSITIVE_INFINITY;
  private coldSince = true;
  hydratedFromLog = 0;
  skippedLogReads = 0;
  /** Hydrations from the log of known visitors, for an event older than what their state holds. */
  lateLogReads = 0;

  constructor(
    private readonly log: EventLog,
    /** The session rules of a site: its own timeout where the registry has one. */
    private readonly rules: (site: string) => SessionRules,
    /** How far back before a visitor's earliest new event the log is replayed on hydration. */
    private readonly lookbackMs: number,
    private readonly policy: PassivationPolicy,
  ) {}

  get liveCount(): number {
    return this.live.size;
  }

  get snapshotCount(): number {
    return this.snapshots.size;
  }

  /** Visitors whose snapshot was dropped for room, remembered so that they are read from the log. */
  get evictedCount(): number {
    return this.evicted.size;
  }

  /** Bytes of retained events the snapshots hold. */
  get snapshotBytes(): number {
    return this.snapshotSize;
  }

  /** Makes sure every visitor in `slices` has an active actor: from memory, its snapshot, or the log. Holds them live until `release`. */
  async hydrate(slices: ReadonlyMap<string, readonly PulseEvent[]>, concurrency = 32): Promise<void> {
    const now = this.policy.now();
    const fromLog: [string, readonly PulseEvent[], boolean][] = [];
    for (const [key, events] of slices) {
      this.pinned.add(key);
      for (const e of events) if (e.ts > this.watermark) this.watermark = e.ts;
      const earliest = events.reduce((m, e) => Math.min(m, e.ts), Number.POSITIVE_INFINITY);
      const live = this.live.get(key);
      // A late event older than what the state holds: the sessions it belongs to are read from the log again.
      if (live && earliest < live.from) {
        this.live.delete(key);
        live.actor.stop();
        this.lateLogReads++;
        fromLog.push([key, events, true]);
        continue;
      }
      if (live) {
        this.live.delete(key);
        live.lastUsed = now;
        const rules = this.rules(events[0]?.site ?? "");
        // A rebuild changed the site's rules: the state is made again under them, as the rebuilt projections were.
        const stale = live.actor.getSnapshot().context.rules.timeoutMs !== rules.timeoutMs;
        // Sessions it forgot may join its first ones under the new rules: then the log is read again.
        if (stale && live.from > Number.NEGATIVE_INFINITY) {
          live.actor.stop();
          fromLog.push([key, events, false]);
          continue;
        }
        this.live.set(key, stale ? { actor: spawnVisitor(rules, passivate(live.actor)), lastUsed: now, from: live.from } : live);
        continue;
      }
      const snap = this.snapshots.get(key);
      if (snap) {
        this.dropSnapshot(key, snap);
        if (earliest < snap.from) {
          this.lateLogReads++;
          fromLog.push([key, events, true]);
          continue;
        }
        this.live.set(key, { actor: spawnVisitor(this.rules(events[0]?.site ?? ""), JSON.parse(snap.events.toString("utf8")) as PulseEvent[]), lastUsed: now, from: snap.from });
        continue;
      }
      if (this.evicted.delete(key)) {
        fromLog.push([key, events, false]);
        continue;
      }
      // New to this worker, and recent enough that activity within a session timeout before it would still be
      // in memory (snapshots go only when D behind the newest event): no history to read.
      const rules = this.rules(events[0]?.site ?? "");
      if (earliest > this.warmAfter && earliest >= this.watermark - this.policy.dropAfterMs + rules.timeoutMs) {
        this.skippedLogReads++;
        // Activity since the drop horizon (and since the registry was warm) would be known; none was, so nothing before that is joined to.
        this.live.set(key, { actor: spawnVisitor(rules, []), lastUsed: now, from: Math.max(this.watermark - this.policy.dropAfterMs, this.warmAfter) + rules.timeoutMs });
        continue;
      }
      fromLog.push([key, events, false]);
    }
    if (this.coldSince) {
      this.coldSince = false;
      this.warmAfter = this.watermark + this.policy.dropAfterMs;
    }
    for (let i = 0; i < fromLog.length; i += concurrency) {
      await Promise.all(
        fromLog.slice(i, i + concurrency).map(async ([key, events, late]) => {
          const first = events[0] as PulseEvent;
          const since = Math.min(...events.map((e) => e.ts)) - this.lookbackMs;
          const history = await this.log.readVisitor(first.site, first.visitor, since);
          this.hydratedFromLog++;
          const rules = this.rules(first.site);
          // For a late event the state keeps everything it read until the slice is placed (see `ingest`).
          const actor = spawnVisitor(late ? { ...rules, retainMs: Number.POSITIVE_INFINITY } : rules, history);
          // Events before `since` were not read: one within a session timeout after it could belong to their session.
          this.live.set(key, { actor, lastUsed: now, from: Math.max(since + rules.timeoutMs, forgottenBefore(actor, history.length)), wide: late });
        }),
      );
    }
  }

  /** Ends a step's hold on its visitors (see `hydrate`): from now on a sweep may passivate them. */
  release(keys: Iterable<string>): void {
    for (const key of keys) this.pinned.delete(key);
  }

  /** The events of a slice that the visitor's state does not hold yet. Call after `hydrate`. */
  unseen(key: string, events: readonly PulseEvent[]): PulseEvent[] {
    const known = this.live.get(key)?.actor.getSnapshot().context.state.sessionOf;
    return known ? events.filter((e) => !known.has(e.id)) : [...events];
  }

  ingest(key: string, events: readonly PulseEvent[]): IngestResult {
    const live = this.live.get(key);
    if (!live) throw new Error(`visitor ${key} was not hydrated`);
    const before = live.actor.getSnapshot().context.state;
    const fresh = new Set(events.filter((e) => !before.sessionOf.has(e.id)).map((e) => e.id)).size;
    const result = ingestSlice(live.actor, events);
    if (live.wide) {
      // The late slice is placed; back to the site's retention, forgetting again what it allows.
      const kept = passivate(live.actor);
      const actor = spawnVisitor(this.rules(events[0]?.site ?? ""), kept);
      this.live.set(key, { actor, lastUsed: live.lastUsed, from: Math.max(live.from, forgottenBefore(actor, kept.length)), wide: false });
      return result;
    }
    live.from = Math.max(live.from, forgottenBefore(live.actor, before.events.length + fresh));
    return result;
  }

  /**
   * Passivates idle and surplus actors, and drops snapshots that fell far behind. Call between steps.
   * Idle actors are passivated for at most `budgetMs` per call, the rest on later calls: visitors that
   * arrived together go idle together, and passivating them all at once stalled the event loop for
   * hundreds of milliseconds. Surplus actors (over `maxLive`) always go, since they bound memory.
   */
  sweep(budgetMs = 2): void {
    const now = this.policy.now();
    const started = performance.now();
    let done = 0;
    for (const [key, live] of this.live) {
      const surplus = this.live.size > this.policy.maxLive;
      if (!surplus && now - live.lastUsed < this.policy.idleMs) break;
      if (this.pinned.has(key)) continue;
      if (!surplus && (++done & 31) === 0 && performance.now() - started > budgetMs) break;
      this.live.delete(key);
      const events = passivate(live.actor);
      const newestTs = events.reduce((m, e) => Math.max(m, e.ts), Number.NEGATIVE_INFINITY);
      if (events.length > 0) {
        const snap = { events: ownBuffer(JSON.stringify(events)), newestTs, from: live.from };
        this.snapshots.set(key, snap);
        this.snapshotSize += snap.events.length;
      }
    }
    for (const [key, snap] of this.snapshots) {
      const tooMany = this.snapshots.size > this.policy.maxSnapshots || this.snapshotSize > this.policy.maxSnapshotBytes;
      if (!tooMany && snap.newestTs >= this.watermark - this.policy.dropAfterMs) break;
      // Dropped for room rather than age: a visitor that recent may come back, so it must be read from the log.
      if (tooMany) this.evicted.set(key, snap.newestTs);
      this.dropSnapshot(key, snap);
    }
    for (const [key, newestTs] of this.evicted) {
      const tooMany = this.evicted.size > this.policy.maxSnapshots;
      if (!tooMany && newestTs >= this.watermark - this.policy.dropAfterMs) break;
      // Forgotten while that recent: every visitor this registry does not know is read from the log until then.
      if (tooMany) this.warmAfter = Math.max(this.warmAfter, newestTs + this.policy.dropAfterMs);
      this.evicted.delete(key);
    }
  }

  /** After taking on partitions whose visitors this registry has never seen: read the log for every unknown visitor again for a while. */
  markCold(): void {
    this.coldSince = true;
    this.warmAfter = Number.POSITIVE_INFINITY;
  }

  /** Forgets visitors whose state may be ahead of what was stored; they are rehydrated from the log. */
  forget(keys: Iterable<string>): void {
    this.markCold();
    for (const key of keys) {
      this.pinned.delete(key);
      this.live.get(key)?.actor.stop();
      this.live.delete(key);
      const snap = this.snapshots.get(key);
      if (snap) this.dropSnapshot(key, snap);
    }
  }

  private dropSnapshot(key: string, snap: Snapshot): void {
    this.snapshots.delete(key);
    this.snapshotSize -= snap.events.length;
  }
}

/**
 * The string's UTF-8 bytes in a buffer of their own. `Buffer.from` would put a small one in a
 * shared 8 KiB slab, which one kept snapshot holds entirely: a snapshot would cost more than its bytes.
 */
const ownBuffer = (text: string): Buffer => {
  const buf = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  buf.write(text);
  return buf;
};

/**
 * Where the reducer's retention left a visitor's state: when it holds fewer events than it was given
 * (`known`), it forgot whole sessions, all ending more than a session timeout before its earliest
 * event left; an event from then on cannot join them. -Infinity when nothing was forgotten.
 */
const forgottenBefore = (actor: VisitorActor, known: number): number => {
  const { events } = actor.getSnapshot().context.state;
  return events.length < known ? (events[0]?.ts ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
};

export const groupByVisitor = (events: readonly PulseEvent[]): Map<string, PulseEvent[]> => {
  const out = new Map<string, PulseEvent[]>();
  for (const e of events) {
    const key = visitorKey(e.site, e.visitor);
    const slice = out.get(key);
    if (slice) slice.push(e);
    else out.set(key, [e]);
  }
  return out;
};
