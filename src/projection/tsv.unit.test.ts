import { expect, it } from "vitest";
import { columnsOf, TsvBuffer, tsvLine, tsvRows } from "./tsv.js";

// tsvRows writes lines into a buffer it grows as needed: its bytes must be those of the lines joined, whatever
// the lengths and however many bytes a character takes in UTF-8.
it("tsvRows gives the UTF-8 bytes of its rows' lines, past every growth of its buffer", () => {
  const pieces = ["plain", "é", "😀", "a\tb\nc\\d", "x".repeat(5_000), "日本語".repeat(700), ""];
  const rows = Array.from({ length: 3_000 }, (_, i) => ({
    site: `s${i % 3}`,
    event_id: `e${i}`,
    url: pieces[i % pieces.length],
    props: pieces[(i * 7) % pieces.length],
    seq: i,
    is_bot: i % 2 === 0,
  }));
  const columns = columnsOf("events");
  const expected = Buffer.from(rows.map((r) => tsvLine(r, columns)).join(""));
  const got = tsvRows(rows, "events");
  expect(got.length).toBe(expected.length);
  expect(got.equals(expected)).toBe(true);
  expect(tsvRows([], "events").length).toBe(0);
});

it("a TsvBuffer's taken text stays as it was while the next rows are added", () => {
  const columns = columnsOf("sessions");
  const rows = Array.from({ length: 500 }, (_, i) => ({ site: "s", session_id: `s${i}`, landing_page: "é".repeat(i % 40), pageviews: i }));
  const out = new TsvBuffer("sessions", 1024);
  for (const r of rows.slice(0, 200)) out.add(r);
  expect(out.rows).toBe(200);
  const first = out.take();
  expect(out.rows).toBe(0);
  for (const r of rows.slice(200)) out.add(r);
  const second = out.take();
  expect(first.equals(Buffer.from(rows.slice(0, 200).map((r) => tsvLine(r, columns)).join("")))).toBe(true);
  expect(second.equals(Buffer.from(rows.slice(200).map((r) => tsvLine(r, columns)).join("")))).toBe(true);
  expect(out.take().length).toBe(0);
});
