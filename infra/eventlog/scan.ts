import type { PulseEvent } from "../../src/core/event.js";

/** What a rebuild reads: one site or all, events with from <= time < to. */
export interface ScanScope {
  readonly site: string | undefined;
  readonly fromTs: number;
  readonly toTs: number;
}

/** One visitor's whole history within the scope: each event once, in log order (time, then sequence). */
export interface VisitorHistory {
  readonly site: string;
  readonly visitor: string;
  readonly events: readonly PulseEvent[];
}

/** A step of a scan. Visitors come whole: no visitor is split over two chunks. */
export interface ScanChunk {
  readonly visitors: readonly VisitorHistory[];
  /** Where a resumed scan starts; only to be stored when `checkpoint` is true (the chunks before it are complete). */
  readonly cursor: unknown;
  readonly checkpoint: boolean;
  /** Share of the scan done, 0..1, for progress and remaining time. */
  readonly done: number;
  /** What the source is doing, for the progress line. */
  readonly phase: string;
}

/**
 * Reading the event log in per-visitor order, for `pulse rebuild`. Kept apart from the live
 * path's EventLog methods: a scan reads everything once, the live path one visitor at a time.
 */
export interface LogScanner {
  readonly backend: "elasticsearch" | "jetstream";
  /** A mark of what the log holds now: anything appended later lies after it. */
  position(): Promise<number>;
  /** Every visitor in scope, as of `upTo` at least, from `resume` (a cursor of an earlier chunk) on. */
  scan(scope: ScanScope, upTo: number, resume: unknown): AsyncIterable<ScanChunk>;
  /** Visitors with events appended after `since` (possibly a few more), and the position this reached. */
  changedSince(scope: ScanScope, since: number): Promise<{ visitors: readonly { site: string; visitor: string }[]; position: number }>;
  /** One visitor's history in scope, read now. */
  readVisitor(scope: ScanScope, site: string, visitor: string): Promise<VisitorHistory>;
  close(): Promise<void>;
}

/** Each event once (the first copy), within the scope's time range, in log order. */
export const historyOf = (site: string, visitor: string, events: readonly PulseEvent[], scope: ScanScope): VisitorHistory => {
  const seen = new Set<string>();
  const kept: PulseEvent[] = [];
  for (const e of events) {
    if (e.ts < scope.fromTs || e.ts >= scope.toTs || seen.has(e.id)) continue;
    seen.add(e.id);
    kept.push(e);
  }
  kept.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  return { site, visitor, events: kept };
};
