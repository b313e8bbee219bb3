import { describe, expect, it } from "vitest";
import type { PulseEvent } from "../../src/core/event.js";
import type { EventLog } from "./port.js";

const ev = (site: string, visitor: string, id: string, ts: number, seq: number): PulseEvent => ({
  id,
  site,
  visitor,
  name: "pageview",
  ts,
  seq,
  receivedAt: ts,
  url: `https://${site}.example/${id}`,
  referrer: "",
  props: { n: seq, ok: true, tag: "x" },
});

/**
 * What every event-log backend must do. Each backend's integration test runs this
 * suite against a real server, with a fresh namespace per test.
 */
export const eventLogContract = (backend: string, open: () => Promise<EventLog>): void => {
  describe(`event log contract: ${backend}`, () => {
    const withLog = async (body: (log: EventLog) => Promise<void>): Promise<void> => {
      const log = await open();
      try {
        await log.init();
        await body(log);
      } finally {
        await log.close();
      }
    };

    it("returns a visitor's events in (time, sequence) order, whole and unchanged", () =>
      withLog(async (log) => {
        const events = [ev("s1", "v", "c", 3000, 3), ev("s1", "v", "a", 1000, 1), ev("s1", "v", "b2", 2000, 5), ev("s1", "v", "b1", 2000, 4)];
        await log.append(events);
        expect(await log.count("s1")).toBe(4);
        const read = await log.readVisitor("s1", "v", 0);
        expect(read.map((e) => e.id)).toEqual(["a", "b1", "b2", "c"]);
        expect(read[0]).toEqual(events[1]);
      }));

    it("ignores a second append of the same events", () =>
      withLog(async (log) => {
        const events = [ev("s1", "v", "a", 1000, 1), ev("s1", "v", "b", 2000, 2)];
        await log.append(events);
        await log.append(events);
        await log.append([events[1] as PulseEvent]);
        expect(await log.count("s1")).toBe(2);
        expect((await log.readVisitor("s1", "v", 0)).map((e) => e.id)).toEqual(["a", "b"]);
      }));

    it("keeps sites and visitors apart, including the same event id on two sites", () =>
      withLog(async (log) => {
        await log.append([ev("s1", "v", "same", 1000, 1), ev("s2", "v", "same", 1000, 2), ev("s1", "w", "other", 1000, 3), ev("s1.x", "v", "dot", 1, 4)]);
        expect(await log.count("s1")).toBe(2);
        expect(await log.count("s2")).toBe(1);
        expect(await log.count("s1.x")).toBe(1);
        expect((await log.readVisitor("s1", "v", 0)).map((e) => e.id)).toEqual(["same"]);
        expect((await log.readVisitor("s2", "v", 0)).map((e) => e.site)).toEqual(["s2"]);
        expect(await log.readVisitor("s1", "nobody", 0)).toEqual([]);
      }));

    it("reads from a time on", () =>
      withLog(async (log) => {
        await log.append([ev("s1", "v", "old", 1000, 1), ev("s1", "v", "new", 5000, 2)]);
        expect((await log.readVisitor("s1", "v", 5000)).map((e) => e.id)).toEqual(["new"]);
      }));

    it("reads a visitor with more events than one page of results", () =>
      withLog(async (log) => {
        const many = Array.from({ length: 6500 }, (_, i) => ev("s1", "busy", `e${i}`, Date.UTC(2026, 10, 1) + i * 1000, i));
        for (let i = 0; i < many.length; i += 2000) await log.append(many.slice(i, i + 2000));
        expect(await log.count("s1")).toBe(6500);
        const read = await log.readVisitor("s1", "busy", 0);
        expect(read.length).toBe(6500);
        expect(read.every((e, i) => e.id === `e${i}`)).toBe(true);
      }), 120_000);
  });
};
