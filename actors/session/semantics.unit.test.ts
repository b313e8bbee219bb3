import { describe, expect, it } from "vitest";
import type { PulseEvent } from "../../src/core/event.js";
import { sessionize } from "./reducer.js";

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const rules = { timeoutMs: 30 * 60_000, retainMs: Number.POSITIVE_INFINITY, keyEvents: new Set(["purchase"]) };
let seq = 0;
const ev = (sec: number, name = "pageview", extra: Partial<PulseEvent> = {}): PulseEvent => ({
  id: `e${sec}-${name}`,
  site: "s",
  visitor: "v",
  name,
  ts: T0 + sec * 1000,
  seq: ++seq,
  receivedAt: 0,
  url: "https://s.example/",
  referrer: "",
  props: {},
  ...extra,
});

describe("engaged sessions (GA4)", () => {
  it("is not engaged with one page view shorter than 10 s", () => {
    expect(sessionize([ev(0), ev(9, "scroll")], rules)[0]?.engaged).toBe(false);
  });
  it("is engaged when it lasts 10 s", () => {
    expect(sessionize([ev(0), ev(10, "scroll")], rules)[0]?.engaged).toBe(true);
  });
  it("is engaged with two page views", () => {
    expect(sessionize([ev(0), ev(1)], rules)[0]?.engaged).toBe(true);
  });
  it("is engaged with a key event, which is counted", () => {
    const [s] = sessionize([ev(0), ev(2, "purchase")], rules);
    expect(s).toMatchObject({ engaged: true, keyEvents: 1, events: 2, pageviews: 1 });
  });
});

describe("attribution and users", () => {
  it("takes source, medium and campaign from the first event only", () => {
    const [s] = sessionize(
      [ev(0, "pageview", { url: "https://s.example/?utm_source=mail&utm_medium=email&utm_campaign=launch" }), ev(5, "pageview", { referrer: "https://www.google.com/" })],
      rules,
    );
    expect(s).toMatchObject({ source: "mail", medium: "email", campaign: "launch" });
  });
  it("moves attribution to a late event that becomes the first", () => {
    const [s] = sessionize([ev(60), ev(0, "pageview", { referrer: "https://www.bing.com/" })], rules);
    expect(s).toMatchObject({ source: "bing", medium: "organic" });
  });
  it("links the session to the last user id sent in it", () => {
    const [s] = sessionize([ev(0), ev(5, "login", { userId: "u-1" }), ev(7, "pageview")], rules);
    expect(s?.userId).toBe("u-1");
    expect(sessionize([ev(0)], rules)[0]?.userId).toBe("");
  });
});
