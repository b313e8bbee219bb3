import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PulseEvent } from "../core/event.js";
import { chTime, eventRow } from "./projection.js";

/** The form ClickHouse reads for DateTime64(3): the ISO string with a space and no zone. */
const reference = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

describe("chTime", () => {
  it("gives the DateTime64(3) text of any instant from 1970 to 2200, whatever came before it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), { minLength: 1, maxLength: 20 }), (instants) => {
        for (const ms of instants) expect(chTime(ms)).toBe(reference(ms));
      }),
    );
  });

  it("handles the last and first millisecond of a day and fractional milliseconds", () => {
    const midnight = Date.UTC(2026, 10, 28);
    for (const ms of [midnight - 1, midnight, midnight + 1, midnight + 86_399_999, 0, 1_764_288_000_123.7]) expect(chTime(ms)).toBe(reference(ms));
  });
});

describe("eventRow", () => {
  const event = (url: string): PulseEvent => ({ id: "e", site: "s", visitor: "v", name: "pageview", ts: 0, seq: 1, receivedAt: 0, url, referrer: "", props: {} });
  const parts = (url: string) => {
    const row = eventRow({ event: event(url), sessionId: "x", version: 1, source: "", medium: "", channel: "" });
    return { hostname: row["hostname"], path: row["path"] };
  };

  it("takes hostname and path from the URL, for URLs seen before and more URLs than it remembers", () => {
    fc.assert(
      fc.property(fc.array(fc.webUrl(), { minLength: 1, maxLength: 200 }), (urls) => {
        for (const url of [...urls, ...urls]) {
          const u = new URL(url);
          expect(parts(url)).toEqual({ hostname: u.hostname, path: u.pathname });
        }
      }),
      { numRuns: 200 },
    );
  });

  it("leaves both empty for a URL that does not parse", () => {
    expect(parts("not a url")).toEqual({ hostname: "", path: "" });
    expect(parts("not a url")).toEqual({ hostname: "", path: "" });
  });
});
