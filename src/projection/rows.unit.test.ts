import { describe, expect, it } from "vitest";
import { chunkRows, readRowsMessage, type RowsMessage } from "./rows.js";
import { EVENT_COLUMNS, SESSION_COLUMNS } from "./tsv.js";

// Reads TabSeparated lines back into rows with the fields that are not empty (the test's rows have no empty fields).
const unescape = (f: string): string => f.replace(/\\(.)/g, (_, c: string) => ({ t: "\t", n: "\n", r: "\r", "0": "\0", b: "\b", f: "\f" })[c] ?? c);
const lines = (bytes: Uint8Array, columns: readonly string[]): unknown[] =>
  new TextDecoder()
    .decode(bytes)
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const fields = l.split("\t");
      expect(fields).toHaveLength(columns.length);
      return Object.fromEntries(fields.flatMap((f, i) => (f === "" ? [] : [[columns[i], unescape(f)]])));
    });
const eventLines = (bytes: Uint8Array) => lines(bytes, EVENT_COLUMNS);
const sessionLines = (bytes: Uint8Array) => lines(bytes, SESSION_COLUMNS);

const event = (i: number, site = "a", ts = "2026-11-28 00:15:00.000") => ({ site, event_id: `e${i}`, ts, props: `{"n":"é ${i}\\n\ttab\\"}` });
const session = (i: number, start: string) => ({ site: "b", session_id: `s${i}`, start, is_deleted: "0" });

describe("projection messages", () => {
  it("carry each table's rows as TabSeparated lines, whole, in order, with the hours they touch", () => {
    const events = [event(1), event(2, "a", "2026-11-28 01:59:59.999"), event(3, "c")];
    const sessions = [session(1, "2026-11-27 23:00:00.000")];
    const [only, ...rest] = chunkRows({ events, sessions }, 512 * 1024).map(readRowsMessage);
    expect(rest).toHaveLength(0);
    const m = only as RowsMessage;
    expect(m.format).toBe("TabSeparated");
    expect(eventLines(m.events)).toEqual(events);
    expect(sessionLines(m.sessions)).toEqual(sessions);
    expect(m.rows).toBe(4);
    expect([...m.hours].sort()).toEqual(
      [
        ["a", "2026-11-28 00:00:00"],
        ["a", "2026-11-28 01:00:00"],
        ["b", "2026-11-27 23:00:00"],
        ["c", "2026-11-28 00:00:00"],
      ].sort(),
    );
  });

  it("split at the byte limit without losing or repeating a row, and name only their own hours", () => {
    const events = Array.from({ length: 300 }, (_, i) => event(i, "a", `2026-11-28 ${String(i % 24).padStart(2, "0")}:00:00.000`));
    const chunks = chunkRows({ events, sessions: [session(1, "2026-11-28 05:00:00.000")] }, 4096);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(4096);
    const read = chunks.map(readRowsMessage);
    expect(read.flatMap((m) => eventLines(m.events))).toEqual(events);
    expect(read.flatMap((m) => sessionLines(m.sessions))).toEqual([session(1, "2026-11-28 05:00:00.000")]);
    expect(read.reduce((n, m) => n + m.rows, 0)).toBe(301);
    for (const m of read) {
      const own = new Set([...eventLines(m.events), ...sessionLines(m.sessions)].map((r) => `${(r as { site: string }).site}/${String((r as { ts?: string; start?: string }).ts ?? (r as { start: string }).start).slice(0, 13)}`));
      expect(new Set(m.hours.map(([s, h]) => `${s}/${h.slice(0, 13)}`))).toEqual(own);
    }
  });

  it("are still read in the earlier form, one JSON object with both row lists", () => {
    const legacy = new TextEncoder().encode(JSON.stringify({ events: [event(1)], sessions: [session(2, "2026-11-28 03:10:00.000")] }));
    const m = readRowsMessage(legacy);
    expect(eventLines(m.events)).toEqual([event(1)]);
    expect(sessionLines(m.sessions)).toEqual([session(2, "2026-11-28 03:10:00.000")]);
    expect(m.rows).toBe(2);
  });

  it("of an older build (JSONEachRow lines under a version 1 header) are read as such", () => {
    const body = `${JSON.stringify(event(1))}\n`;
    const data = new TextEncoder().encode(`${JSON.stringify({ v: 1, rows: 1, eventBytes: Buffer.byteLength(body), hours: [["a", "2026-11-28 00:00:00"]] })}\n${body}`);
    const m = readRowsMessage(data);
    expect(m.format).toBe("JSONEachRow");
    expect(JSON.parse(new TextDecoder().decode(m.events))).toEqual(event(1));
    expect(m.sessions).toHaveLength(0);
  });
});
