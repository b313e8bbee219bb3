import { PAGEVIEW, compareEvents, type PulseEvent } from "../../src/core/event.js";
import { stableId } from "../../src/core/hash.js";

/** One session as the projections see it. */
export interface SessionAgg {
  readonly id: string;
  readonly site: string;
  readonly visitor: string;
  readonly start: number;
  readonly end: number;
  readonly pageviews: number;
  readonly events: number;
  readonly landingPage: string;
  readonly landingTs: number;
  readonly exitPage: string;
  readonly exitTs: number;
  readonly referrer: string;
}

/** What a visitor's actor remembers: its recent sessions and which session each of their events went to. */
export interface VisitorState {
  readonly sessions: readonly SessionAgg[];
  readonly eventSession: ReadonlyMap<string, string>;
}

export interface PlacedEvent {
  readonly event: PulseEvent;
  readonly sessionId: string;
}

export interface IngestResult {
  readonly state: VisitorState;
  /** Every session that an event of this call belongs to, in its new form. */
  readonly touched: readonly SessionAgg[];
  /** Every event of this call, duplicates included, with its session. */
  readonly placed: readonly PlacedEvent[];
}

export interface SessionRules {
  readonly timeoutMs: number;
  /** Sessions that ended this long before the newest one are forgotten (their events are in the log). */
  readonly retainMs: number;
}

export const emptyVisitor: VisitorState = { sessions: [], eventSession: new Map() };

const startSession = (e: PulseEvent): SessionAgg => {
  const page = e.name === PAGEVIEW ? e.url : "";
  return {
    id: stableId("s", e.site, e.visitor, e.id),
    site: e.site,
    visitor: e.visitor,
    start: e.ts,
    end: e.ts,
    pageviews: 0,
    events: 0,
    landingPage: page,
    landingTs: page ? e.ts : Number.POSITIVE_INFINITY,
    exitPage: page,
    exitTs: page ? e.ts : Number.NEGATIVE_INFINITY,
    referrer: e.referrer,
  };
};

const addEvent = (s: SessionAgg, e: PulseEvent): SessionAgg => {
  const isView = e.name === PAGEVIEW;
  const earlier = e.ts < s.start;
  return {
    ...s,
    start: Math.min(s.start, e.ts),
    end: Math.max(s.end, e.ts),
    events: s.events + 1,
    pageviews: s.pageviews + (isView ? 1 : 0),
    landingPage: isView && e.ts < s.landingTs ? e.url : s.landingPage,
    landingTs: isView ? Math.min(s.landingTs, e.ts) : s.landingTs,
    exitPage: isView && e.ts >= s.exitTs ? e.url : s.exitPage,
    exitTs: isView ? Math.max(s.exitTs, e.ts) : s.exitTs,
    referrer: earlier ? e.referrer : s.referrer,
  };
};

/** The latest session that an event at `ts` continues, if any. */
const sessionFor = (sessions: readonly SessionAgg[], ts: number, timeoutMs: number): number => {
  for (let i = sessions.length - 1; i >= 0; i--) {
    const s = sessions[i];
    if (s && ts <= s.end + timeoutMs && ts >= s.start - timeoutMs) return i;
  }
  return -1;
};

/**
 * Folds a visitor's events into sessions. Pure: the result depends only on the
 * state and the events, never on the clock, so the live path and a rebuild agree.
 * Events are taken in (time, sequence) order; an id already seen is not counted again.
 */
export const ingest = (state: VisitorState, events: readonly PulseEvent[], rules: SessionRules): IngestResult => {
  const sessions = [...state.sessions];
  const eventSession = new Map(state.eventSession);
  const touchedIds = new Set<string>();
  const placed: PlacedEvent[] = [];
  for (const e of [...events].sort(compareEvents)) {
    const known = eventSession.get(e.id);
    if (known !== undefined) {
      touchedIds.add(known);
      placed.push({ event: e, sessionId: known });
      continue;
    }
    const at = sessionFor(sessions, e.ts, rules.timeoutMs);
    let session: SessionAgg;
    if (at >= 0) {
      session = addEvent(sessions[at] as SessionAgg, e);
      sessions[at] = session;
    } else {
      session = addEvent(startSession(e), e);
      sessions.push(session);
      sessions.sort((a, b) => a.start - b.start);
    }
    eventSession.set(e.id, session.id);
    touchedIds.add(session.id);
    placed.push({ event: e, sessionId: session.id });
  }
  const newest = sessions.reduce((m, s) => Math.max(m, s.end), Number.NEGATIVE_INFINITY);
  const kept = sessions.filter((s) => s.end >= newest - rules.retainMs || touchedIds.has(s.id));
  const keptIds = new Set(kept.map((s) => s.id));
  for (const [id, sid] of eventSession) if (!keptIds.has(sid)) eventSession.delete(id);
  return {
    state: { sessions: kept, eventSession },
    touched: sessions.filter((s) => touchedIds.has(s.id)),
    placed,
  };
};

/** Sessions of a whole log, from nothing: what a rebuild computes. */
export const sessionize = (events: readonly PulseEvent[], rules: SessionRules): readonly SessionAgg[] =>
  ingest(emptyVisitor, events, { ...rules, retainMs: Number.POSITIVE_INFINITY }).state.sessions;
