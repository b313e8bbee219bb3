import { PAGEVIEW, compareEvents, type PulseEvent } from "../../src/core/event.js";
import { attribute } from "../../src/core/attribution.js";
import { defaultChannelGroup } from "../../src/enrich/channel.js";
import { stableId } from "../../src/core/hash.js";
import { hostOf } from "../../src/core/url.js";

/** One session as the projections see it. */
export interface SessionAgg {
  /** Derived from the session's earliest event, so a rebuild of the same log gives the same id. */
  readonly id: string;
  readonly site: string;
  readonly visitor: string;
  readonly start: number;
  readonly end: number;
  readonly pageviews: number;
  readonly events: number;
  readonly landingPage: string;
  readonly exitPage: string;
  readonly referrer: string;
  /** From the first event: UTM tags, click ids, else the referrer. */
  readonly source: string;
  readonly medium: string;
  readonly campaign: string;
  /** GA4's default channel group of that source and medium. */
  readonly channel: string;
  /** Client facts of the first event. */
  readonly browser: string;
  readonly os: string;
  readonly device: string;
  readonly country: string;
  readonly bot: boolean;
  /** Events whose name is one of the site's key events. */
  readonly keyEvents: number;
  /** GA4: lasted at least 10 s, or had two page views, or a key event. */
  readonly engaged: boolean;
  /** The last user id sent in the session, linking it to a signed-in user; empty when none. */
  readonly userId: string;
  /** The highest receive sequence among its events: a session that gained events has a higher version. */
  readonly version: number;
}

/** A session that no longer exists because a late event merged it into another or moved its start. */
export interface SessionTombstone {
  readonly id: string;
  /** Where the session stood, so that what was derived from it there can be recomputed. */
  readonly start: number;
  readonly site: string;
  readonly visitor: string;
  readonly version: number;
}

/** What a visitor's actor remembers: its recent events, in log order, and the sessions they form. */
export interface VisitorState {
  readonly events: readonly PulseEvent[];
  readonly sessions: readonly SessionAgg[];
  readonly sessionOf: ReadonlyMap<string, string>;
}

export interface PlacedEvent {
  readonly event: PulseEvent;
  readonly sessionId: string;
  /** Its session's attribution, which reports break events down by. */
  readonly source: string;
  readonly medium: string;
  readonly channel: string;
  /** The version of its session when placed; a re-placed event carries a higher one. */
  readonly version: number;
}

export interface IngestResult {
  readonly state: VisitorState;
  /** Sessions to write: those that changed, and those holding an event of this call. */
  readonly touched: readonly SessionAgg[];
  /** Sessions to delete. */
  readonly removed: readonly SessionTombstone[];
  /** Events to write: every event of this call, duplicates included, and any whose session changed. */
  readonly placed: readonly PlacedEvent[];
}

export interface SessionRules {
  readonly timeoutMs: number;
  /** Event names that count as key events (conversions). */
  readonly keyEvents?: ReadonlySet<string>;
  /** Sessions that ended this long before the newest one are forgotten (their events stay in the log). */
  readonly retainMs: number;
}

export const emptyVisitor: VisitorState = { events: [], sessions: [], sessionOf: new Map() };

interface Sessionized {
  readonly sessions: SessionAgg[];
  readonly sessionOf: Map<string, string>;
}

const ENGAGED_MS = 10_000;


type Draft = { -readonly [K in keyof SessionAgg]: SessionAgg[K] };

/**
 * Sessions of events already in log order: a gap longer than the timeout starts a new one.
 * Each session is built in place: the objects are this call's own until it returns, and a copy per
 * event (as a spread) was a fifth of a rebuild's main thread.
 */
const sessionizeSorted = (events: readonly PulseEvent[], rules: SessionRules): Sessionized => {
  const { timeoutMs } = rules;
  const noKeyEvents = new Set<string>();
  const keyEvents = rules.keyEvents ?? noKeyEvents;
  const sessions: Draft[] = [];
  const sessionOf = new Map<string, string>();
  let current: Draft | undefined;
  for (const e of events) {
    const isView = e.name === PAGEVIEW;
    if (!current || e.ts - current.end > timeoutMs) {
      const attribution = attribute(e.url, e.referrer);
      current = {
        id: stableId("s", e.site, e.visitor, e.id),
        site: e.site,
        visitor: e.visitor,
        start: e.ts,
        end: e.ts,
        pageviews: 0,
        events: 0,
        landingPage: "",
        exitPage: "",
        referrer: e.referrer,
        ...attribution,
        channel: defaultChannelGroup(attribution, hostOf(e.referrer)),
        browser: e.context?.browser ?? "",
        os: e.context?.os ?? "",
        device: e.context?.device ?? "",
        country: e.context?.country ?? "",
        bot: e.context?.bot ?? false,
        keyEvents: 0,
        engaged: false,
        userId: "",
        version: 0,
      };
      sessions.push(current);
    }
    if (isView) {
      if (current.pageviews === 0) current.landingPage = e.url;
      current.exitPage = e.url;
      current.pageviews++;
    }
    if (keyEvents.has(e.name)) current.keyEvents++;
    current.end = e.ts;
    current.events++;
    current.engaged = e.ts - current.start >= ENGAGED_MS || current.pageviews >= 2 || current.keyEvents > 0;
    if (e.userId) current.userId = e.userId;
    if (e.seq > current.version) current.version = e.seq;
    sessionOf.set(e.id, current.id);
  }
  return { sessions, sessionOf };
};

// Every field but the id is covered by (start, end, events, version) except what a late event can change at the front.
const sameSession = (a: SessionAgg, b: SessionAgg): boolean =>
  a.start === b.start && a.end === b.end && a.events === b.events && a.version === b.version && a.landingPage === b.landingPage && a.referrer === b.referrer;

/**
 * Folds a slice of a visitor's events into their sessions. Pure: the result depends only on
 * the state and the events, never on the clock or on arrival order, so the live path and a
 * rebuild agree. The retained window is re-sessionized whole, which is what lets a late
 * event move a session's start or merge two sessions. An id already seen is not counted again.
 */
export const ingest = (state: VisitorState, events: readonly PulseEvent[], rules: SessionRules): IngestResult => {
  const known = new Set(state.events.map((e) => e.id));
  const fresh: PulseEvent[] = [];
  for (const e of events) {
    if (known.has(e.id)) continue;
    known.add(e.id);
    fresh.push(e);
  }
  const all = fresh.length === 0 ? state.events : [...state.events, ...fresh].sort(compareEvents);
  const { sessions, sessionOf } = fresh.length === 0 ? { sessions: [...state.sessions], sessionOf: new Map(state.sessionOf) } : sessionizeSorted(all, rules);

  // A visitor with nothing retained (a new one, or a rebuild's from its whole history) takes the short way through the
  // steps below: every session is new, none is removed, every event is in this call; the result is the same.
  const fromNothing = state.events.length === 0 && state.sessions.length === 0;
  const byId = new Map(sessions.map((s) => [s.id, s]));
  let touched: SessionAgg[] = sessions;
  if (!fromNothing) {
    const before = new Map(state.sessions.map((s) => [s.id, s]));
    const callSessions = new Set(events.map((e) => sessionOf.get(e.id)));
    touched = sessions.filter((s) => {
      const old = before.get(s.id);
      return !old || !sameSession(old, s) || callSessions.has(s.id);
    });
  }
  const newestSeq = fresh.reduce((m, e) => Math.max(m, e.seq), 0);
  const removed = state.sessions
    .filter((s) => !byId.has(s.id))
    .map((s) => ({ id: s.id, site: s.site, visitor: s.visitor, start: s.start, version: Math.max(s.version + 1, newestSeq) }));

  const placed: PlacedEvent[] = [];
  const place = (e: PulseEvent): void => {
    const sessionId = sessionOf.get(e.id) as string;
    const session = byId.get(sessionId);
    placed.push({ event: e, sessionId, version: session?.version ?? 0, source: session?.source ?? "", medium: session?.medium ?? "", channel: session?.channel ?? "" });
  };
  for (const e of events) place(e);
  if (!fromNothing) {
    const inCall = new Set(events.map((e) => e.id));
    for (const e of all) if (!inCall.has(e.id) && state.sessionOf.get(e.id) !== sessionOf.get(e.id)) place(e);
  }

  if (rules.retainMs === Number.POSITIVE_INFINITY) return { state: { events: all, sessions, sessionOf }, touched, removed, placed };
  // Forget what ended long before the newest session; late events that far back are the rebuild's to place.
  const newest = sessions.reduce((m, s) => Math.max(m, s.end), Number.NEGATIVE_INFINITY);
  const keep = new Set(sessions.filter((s) => s.end >= newest - rules.retainMs).map((s) => s.id));
  const keptEvents = all.filter((e) => keep.has(sessionOf.get(e.id) as string));
  const keptSessionOf = new Map(keptEvents.map((e) => [e.id, sessionOf.get(e.id) as string]));
  return {
    state: { events: keptEvents, sessions: sessions.filter((s) => keep.has(s.id)), sessionOf: keptSessionOf },
    touched,
    removed,
    placed,
  };
};

/** Sessions of a whole log, from nothing: what a rebuild computes. */
export const sessionize = (events: readonly PulseEvent[], rules: SessionRules): readonly SessionAgg[] =>
  ingest(emptyVisitor, events, { ...rules, retainMs: Number.POSITIVE_INFINITY }).state.sessions;
