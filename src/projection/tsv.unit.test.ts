import { expect, it } from "vitest";
import { columnsOf, tsvLine, tsvRows } from "./tsv.js";

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
