import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareEvents, type PulseEvent } from "../../src/core/event.js";
import { emptyVisitor, ingest, sessionize, type SessionAgg, type SessionRules, type VisitorState } from "./reducer.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const rules: SessionRules = { timeoutMs: 30 * MIN, retainMs: Number.POSITIVE_INFINITY };

interface EvOpts {
  readonly name?: string;
  readonly url?: string;
  readonly referrer?: string;
  readonly visitor?: string;
  readonly site?: string;
  readonly seq?: number;
}

/** An event `ms` after T0; seq defaults to the offset so ties are broken deterministically. */
const ev = (id: string, ms: number, o: EvOpts = {}): PulseEvent => ({
  id,
  site: o.site ?? "site1",
  visitor: o.visitor ?? "v1",
  name: o.name ?? "pageview",
  ts: T0 + ms,
  seq: o.seq ?? ms,
  receivedAt: T0,
  url: o.url ?? `https://example.com/${id}`,
  referrer: o.referrer ?? "",
  props: {},
});

const at = (id: string, minute: number, o: EvOpts = {}): PulseEvent => ev(id, minute * MIN, o);

/** Feeds the slices one after the other, as the live actor does. */
const feed = (slices: readonly (readonly PulseEvent[])[], r: SessionRules = rules): VisitorState =>
  slices.reduce<VisitorState>((state, slice) => ingest(state, slice, r).state, emptyVisitor);

const byStart = (s: readonly SessionAgg[]): SessionAgg[] => [...s].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));

describe("timeout", () => {
  it("continues a session when the gap is exactly timeoutMs", () => {
    const s = sessionize([ev("a", 0), ev("b", 30 * MIN)], rules);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ start: T0, end: T0 + 30 * MIN, pageviews: 2, events: 2 });
  });

  it("starts a new session when the gap is timeoutMs + 1 ms", () => {
    const s = sessionize([ev("a", 0), ev("b", 30 * MIN + 1)], rules);
    expect(s).toHaveLength(2);
    expect(s.map((x) => [x.start, x.end, x.pageviews])).toEqual([
      [T0, T0, 1],
      [T0 + 30 * MIN + 1, T0 + 30 * MIN + 1, 1],
    ]);
    expect(s[0]?.id).not.toBe(s[1]?.id);
  });

  it("measures the gap from the last event, not from the session start", () => {
    // 0, 25, 50, 75: every gap is under 30 min although the session lasts 75 min.
    const s = sessionize([at("a", 0), at("b", 25), at("c", 50), at("d", 75)], rules);
    expect(s).toHaveLength(1);
    expect(s[0]?.pageviews).toBe(4);
  });

  it("applies the same boundary when the second event arrives in a later call", () => {
    const one = ingest(emptyVisitor, [ev("a", 0)], rules);
    const same = ingest(one.state, [ev("b", 30 * MIN)], rules);
    expect(same.state.sessions).toHaveLength(1);
    const split = ingest(one.state, [ev("b", 30 * MIN + 1)], rules);
    expect(split.state.sessions).toHaveLength(2);
  });

  it("honours a custom timeout", () => {
    const s = sessionize([at("a", 0), at("b", 6), at("c", 12)], { timeoutMs: 5 * MIN, retainMs: 0 });
    expect(s.map((x) => x.events)).toEqual([1, 1, 1]);
  });
});

describe("ordering", () => {
  it("gives the same sessions for unsorted input as for sorted input", () => {
    const sorted = [at("a", 0), at("b", 10), at("c", 20), at("d", 90), at("e", 100), at("f", 200)];
    const shuffled = [sorted[4], sorted[0], sorted[5], sorted[2], sorted[3], sorted[1]] as PulseEvent[];
    const a = sessionize(sorted, rules);
    const b = sessionize(shuffled, rules);
    expect(b).toEqual(a);
    expect(a.map((s) => s.events)).toEqual([3, 2, 1]);
  });

  it("breaks equal times by seq for landing and exit pages", () => {
    const x = ev("x", 0, { seq: 2, url: "https://example.com/second" });
    const y = ev("y", 0, { seq: 1, url: "https://example.com/first" });
    const [s] = sessionize([x, y], rules);
    expect(s?.landingPage).toBe("https://example.com/first");
    expect(s?.exitPage).toBe("https://example.com/second");
  });

  it("returns sessions ordered by start", () => {
    const s = sessionize([at("c", 300), at("a", 0), at("b", 120)], rules);
    expect(s.map((x) => x.start)).toEqual([T0, T0 + 120 * MIN, T0 + 300 * MIN]);
  });
});

describe("duplicates", () => {
  it("does not count an id twice within one call but still places it", () => {
    const a = at("a", 0);
    const r = ingest(emptyVisitor, [a, at("b", 5), { ...a }], rules);
    expect(r.state.sessions).toHaveLength(1);
    const s = r.state.sessions[0] as SessionAgg;
    expect(s.events).toBe(2);
    expect(s.pageviews).toBe(2);
    expect(r.placed).toHaveLength(3);
    expect(r.placed.filter((p) => p.event.id === "a").map((p) => p.sessionId)).toEqual([s.id, s.id]);
    expect(r.touched).toEqual([s]);
  });

  it("does not count an id twice across calls, places it and reports its session as touched", () => {
    const first = ingest(emptyVisitor, [at("a", 0), at("b", 5)], rules);
    const s = first.state.sessions[0] as SessionAgg;
    // Re-sent with a different time: the first placement wins and nothing changes.
    const again = ingest(first.state, [at("a", 20)], rules);
    expect(again.state.sessions).toEqual(first.state.sessions);
    expect(again.placed).toEqual([{ event: at("a", 20), sessionId: s.id, version: s.version, source: s.source, medium: s.medium, channel: s.channel }]);
    expect(again.touched).toEqual([s]);
    expect(again.touched[0]?.events).toBe(2);
  });

  it("keeps a duplicate in the session it first went to, even when a later session exists", () => {
    const first = ingest(emptyVisitor, [at("a", 0), at("b", 120)], rules);
    const [s1, s2] = first.state.sessions as SessionAgg[];
    const again = ingest(first.state, [at("a", 0), at("c", 125)], rules);
    expect(again.placed.map((p) => p.sessionId)).toEqual([s1?.id, s2?.id]);
    expect(byStart(again.touched).map((s) => [s.id, s.events])).toEqual([
      [s1?.id, 1],
      [s2?.id, 2],
    ]);
  });
});

describe("session fields", () => {
  it("takes landing and exit pages from the first and last pageview by time", () => {
    const events = [
      at("mid", 10, { url: "https://example.com/mid" }),
      at("last", 20, { url: "https://example.com/last" }),
      at("first", 2, { url: "https://example.com/first" }),
      // Custom events before the first and after the last pageview do not change the pages.
      at("early-click", 0, { name: "click", url: "https://example.com/click-early" }),
      at("late-click", 25, { name: "click", url: "https://example.com/click-late" }),
    ];
    const [s, ...rest] = sessionize(events, rules);
    expect(rest).toEqual([]);
    expect(s).toMatchObject({
      landingPage: "https://example.com/first",
      exitPage: "https://example.com/last",
      start: T0,
      end: T0 + 25 * MIN,
    });
  });

  it("counts custom events in events but not in pageviews", () => {
    const [s] = sessionize([at("p1", 0), at("c1", 1, { name: "signup" }), at("c2", 2, { name: "click" }), at("p2", 3)], rules);
    expect(s?.events).toBe(4);
    expect(s?.pageviews).toBe(2);
  });

  it("leaves landing and exit pages empty for a session of custom events only", () => {
    const [s] = sessionize([at("c1", 0, { name: "click" }), at("c2", 1, { name: "click" })], rules);
    expect(s).toMatchObject({ events: 2, pageviews: 0, landingPage: "", exitPage: "" });
  });

  it("takes the referrer from the first event", () => {
    const [s] = sessionize([at("a", 0, { referrer: "https://search.example/" }), at("b", 1, { referrer: "https://example.com/a" })], rules);
    expect(s?.referrer).toBe("https://search.example/");
  });

  it("extends a session backwards for a late event within the timeout and takes its referrer", () => {
    const first = ingest(emptyVisitor, [at("a", 60, { referrer: "https://example.com/internal" }), at("b", 70)], rules);
    const old = first.state.sessions[0] as SessionAgg;
    const late = ingest(first.state, [at("late", 40, { referrer: "https://news.example/", url: "https://example.com/entry" })], rules);
    expect(late.state.sessions).toHaveLength(1);
    expect(late.touched).toHaveLength(1);
    // The session now starts at the late event, so it takes that event's id, as a rebuild would; the old row is deleted.
    expect(late.touched[0]?.id).toBe(sessionize([at("a", 60), at("b", 70), at("late", 40)], rules)[0]?.id);
    expect(late.touched[0]?.id).not.toBe(old.id);
    expect(late.removed).toEqual([{ id: old.id, site: old.site, visitor: old.visitor, start: old.start, version: old.version + 1 }]);
    expect(late.placed.map((p) => p.event.id).sort()).toEqual(["a", "b", "late"]);
    expect(late.touched[0]).toMatchObject({
      start: T0 + 40 * MIN,
      end: T0 + 70 * MIN,
      events: 3,
      pageviews: 3,
      referrer: "https://news.example/",
      landingPage: "https://example.com/entry",
      exitPage: "https://example.com/b",
    });
  });

  it("starts a separate session for a late event further back than the timeout", () => {
    const first = ingest(emptyVisitor, [at("a", 60, { referrer: "https://example.com/internal" })], rules);
    const late = ingest(first.state, [ev("late", 60 * MIN - 30 * MIN - 1, { referrer: "https://news.example/" })], rules);
    expect(late.state.sessions).toHaveLength(2);
    expect(late.state.sessions.find((s) => s.start === T0 + 60 * MIN)?.referrer).toBe("https://example.com/internal");
  });

  it("carries site and visitor", () => {
    const [s] = sessionize([at("a", 0, { site: "shop", visitor: "vis-9" })], rules);
    expect(s).toMatchObject({ site: "shop", visitor: "vis-9" });
  });
});

describe("session ids", () => {
  const events = [at("a", 0), at("b", 10), at("c", 100), at("d", 300)];

  it("are deterministic", () => {
    const a = sessionize(events, rules).map((s) => s.id);
    const b = sessionize(events.map((e) => ({ ...e })), rules).map((s) => s.id);
    expect(a).toHaveLength(3);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(3);
  });

  it("differ per visitor and per site for the same event ids and times", () => {
    const v1 = sessionize(events, rules).map((s) => s.id);
    const v2 = sessionize(events.map((e) => ({ ...e, visitor: "v2" })), rules).map((s) => s.id);
    const other = sessionize(events.map((e) => ({ ...e, site: "site2" })), rules).map((s) => s.id);
    for (let i = 0; i < v1.length; i++) {
      expect(v2[i]).not.toBe(v1[i]);
      expect(other[i]).not.toBe(v1[i]);
    }
  });

  it("place every event of a call with the id of the session it went to", () => {
    const r = ingest(emptyVisitor, events, rules);
    const ids = r.state.sessions.map((s) => s.id);
    expect(r.placed.map((p) => [p.event.id, p.sessionId])).toEqual([
      ["a", ids[0]],
      ["b", ids[0]],
      ["c", ids[1]],
      ["d", ids[2]],
    ]);
    expect(r.touched.map((s) => s.id)).toEqual(ids);
  });
});

describe("retention", () => {
  it("forgets sessions that ended more than retainMs before the newest, and their event ids", () => {
    const r = { timeoutMs: 30 * MIN, retainMs: HOUR };
    const first = ingest(emptyVisitor, [at("a", 0), at("b", 5)], r);
    const old = first.state.sessions[0] as SessionAgg;
    const second = ingest(first.state, [at("c", 5 * 60)], r);
    expect(second.state.sessions.map((s) => s.start)).toEqual([T0 + 5 * HOUR]);
    expect(second.state.sessionOf.has("a")).toBe(false);
    expect(second.state.sessionOf.has("b")).toBe(false);
    expect(second.state.sessionOf.has("c")).toBe(true);
    expect(second.touched.map((s) => s.id)).not.toContain(old.id);
    // Once forgotten, a re-sent id is counted again.
    const third = ingest(second.state, [at("a", 0)], r);
    const resent = third.placed[0];
    expect(third.touched).toHaveLength(1);
    expect(third.touched[0]).toMatchObject({ id: resent?.sessionId, events: 1, start: T0 });
  });

  it("keeps a session that ended exactly retainMs before the newest", () => {
    const r = { timeoutMs: 30 * MIN, retainMs: HOUR };
    const state = feed([[at("a", 0)], [ev("b", HOUR)]], r);
    expect(state.sessions).toHaveLength(2);
    const pruned = feed([[at("a", 0)], [ev("b", HOUR + 1)]], r);
    expect(pruned.sessions).toHaveLength(1);
    expect(pruned.sessionOf.has("a")).toBe(false);
  });

  it("writes an old session of this call even when it is past retention, then forgets it", () => {
    const r = { timeoutMs: 30 * MIN, retainMs: HOUR };
    const res = ingest(emptyVisitor, [at("a", 0), at("b", 10 * 60)], r);
    expect(res.touched).toHaveLength(2);
    expect(res.placed.map((p) => p.sessionId)).toEqual(res.touched.map((s) => s.id));
    expect(res.state.sessions).toHaveLength(1);
    expect(res.state.sessionOf.has("a")).toBe(false);
    // Sent again after being forgotten, it forms the same session with the same id: the projection replaces, not adds.
    const again = ingest(res.state, [at("a", 0)], r);
    expect(again.touched.map((s) => [s.id, s.events])).toEqual([[res.touched[0]?.id, 1]]);
  });

  it("never prunes in sessionize, whatever retainMs says", () => {
    const s = sessionize([at("a", 0), at("b", 24 * 60)], { timeoutMs: 30 * MIN, retainMs: 0 });
    expect(s).toHaveLength(2);
  });

  it("does not modify the state it was given", () => {
    const first = ingest(emptyVisitor, [at("a", 0)], rules);
    const before = { sessions: [...first.state.sessions], ids: [...first.state.sessionOf] };
    ingest(first.state, [at("b", 5), at("c", 500)], { timeoutMs: 30 * MIN, retainMs: 0 });
    expect(first.state.sessions).toEqual(before.sessions);
    expect([...first.state.sessionOf]).toEqual(before.ids);
    expect(emptyVisitor.sessions).toEqual([]);
    expect(emptyVisitor.sessionOf.size).toBe(0);
  });
});

/** Random minute offsets within a day, for one visitor; ids are unique. */
const eventsArb = fc
  .array(fc.record({ minute: fc.integer({ min: 0, max: 600 }), custom: fc.boolean(), ref: fc.constantFrom("", "https://a.example/", "https://b.example/") }), {
    minLength: 1,
    maxLength: 40,
  })
  .map((raw) =>
    raw.map((r, i) =>
      ev(`e${i}`, r.minute * MIN, { seq: i, name: r.custom ? "click" : "pageview", referrer: r.ref, url: `https://example.com/p${i % 5}` }),
    ),
  );

/** Cuts a list into consecutive slices at the given (unsorted, possibly repeated) cut points. */
const slice = <T,>(items: readonly T[], cuts: readonly number[]): T[][] => {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const p of [...points, items.length]) {
    out.push(items.slice(from, p));
    from = p;
  }
  return out;
};

describe("slices versus one call (property)", () => {
  const cutsArb = fc.array(fc.nat(), { maxLength: 10 });

  it("gives the same sessions whatever the slicing, when events arrive in time order", () => {
    fc.assert(
      fc.property(eventsArb, cutsArb, (events, cuts) => {
        const arrival = [...events].sort(compareEvents);
        const whole = sessionize(events, rules);
        const state = feed(slice(arrival, cuts));
        expect(state.sessions).toEqual(whole);
        expect(state.sessionOf.size).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same sessions when some events are sent again in later slices", () => {
    fc.assert(
      fc.property(eventsArb, cutsArb, fc.array(fc.nat(), { maxLength: 10 }), (events, cuts, resend) => {
        const arrival = [...events].sort(compareEvents);
        const slices = slice(arrival, cuts);
        // A re-sent event goes into the last slice, after its original.
        const last = slices[slices.length - 1] as PulseEvent[];
        for (const r of resend) last.push({ ...(arrival[r % arrival.length] as PulseEvent) });
        expect(feed(slices).sessions).toEqual(sessionize(events, rules));
      }),
      { numRuns: 200 },
    );
  });

  it("places every event of every slice in the session that the final state holds for it", () => {
    fc.assert(
      fc.property(eventsArb, cutsArb, (events, cuts) => {
        let state = emptyVisitor;
        const placedAt = new Map<string, string>();
        for (const s of slice([...events].sort(compareEvents), cuts)) {
          const r = ingest(state, s, rules);
          expect(r.placed.map((p) => p.event.id)).toEqual([...s].sort(compareEvents).map((e) => e.id));
          for (const p of r.placed) {
            placedAt.set(p.event.id, p.sessionId);
            expect(r.touched.map((t) => t.id)).toContain(p.sessionId);
          }
          state = r.state;
        }
        const whole = sessionize(events, rules);
        const counts = new Map<string, number>();
        for (const sid of placedAt.values()) counts.set(sid, (counts.get(sid) ?? 0) + 1);
        expect(new Map(whole.map((s) => [s.id, s.events]))).toEqual(counts);
      }),
      { numRuns: 200 },
    );
  });

  // Known bug, see the report: the live path (slices in arrival order) and a rebuild
  // (sessionize) disagree once events arrive out of time order. These flip to failing
  // when the reducer is fixed; then drop `.fails`.
  it("gives the same sessions whatever the slicing and arrival order", () => {
    fc.assert(
      fc.property(eventsArb, cutsArb, (events, cuts) => {
        expect(byStart(feed(slice(events, cuts)).sessions)).toEqual(sessionize(events, rules));
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it("keeps the session id a rebuild computes when a late earlier event arrives", () => {
    const live = feed([[at("b", 10)], [at("a", 5)]]);
    const rebuilt = sessionize([at("b", 10), at("a", 5)], rules);
    expect(live.sessions.map((s) => s.id)).toEqual(rebuilt.map((s) => s.id));
  });

  it("merges two sessions when a late event bridges them", () => {
    const live = feed([[at("a", 0), at("c", 40)], [at("b", 20)]]);
    const rebuilt = sessionize([at("a", 0), at("b", 20), at("c", 40)], rules);
    expect(rebuilt).toHaveLength(1);
    expect(live.sessions).toHaveLength(1);
  });
});

describe("a first call, from nothing (property)", () => {
  it("touches every session, removes none, and places each event of the call once, duplicates included, in its session", () => {
    fc.assert(
      fc.property(eventsArb, fc.array(fc.nat(), { maxLength: 5 }), fc.constantFrom(Number.POSITIVE_INFINITY, 2 * HOUR), (events, resend, retainMs) => {
        const call = [...events, ...resend.map((r) => ({ ...(events[r % events.length] as PulseEvent) }))];
        const r = ingest(emptyVisitor, call, { ...rules, retainMs });
        const all = sessionize(events, rules);
        expect(r.touched).toEqual(all);
        expect(r.removed).toEqual([]);
        expect(r.placed.map((p) => p.event)).toEqual(call);
        const byId = new Map(all.map((s) => [s.id, s]));
        const whole = ingest(emptyVisitor, events, rules).state.sessionOf;
        for (const p of r.placed) {
          expect(p.sessionId).toBe(whole.get(p.event.id));
          expect(p.version).toBe(byId.get(p.sessionId)?.version);
        }
        if (retainMs === Number.POSITIVE_INFINITY) expect(r.state.sessions).toEqual(all);
        else expect(all).toEqual(expect.arrayContaining([...r.state.sessions]));
      }),
      { numRuns: 300 },
    );
  });
});
