import { expect, it } from "vitest";
import { tempChdbStore } from "../../test/harness/chdb.js";
import { StoreError } from "../core/errors.js";
import type { PulseEvent } from "../core/event.js";
import { eventRow, sessionRow, tombstoneRow } from "../worker/projection.js";
import { columnsOf, tsvRows } from "./tsv.js";

const temp = tempChdbStore("tsv");

// Every character TabSeparated treats specially, and some it does not.
const nasty = "a\tb\nc\\d\re\0f\bg\fh 'q' \"dq\" é 😀 \\t \\n \\\\";

const event: PulseEvent = {
  id: `id-${nasty}`,
  site: "s",
  visitor: `v ${nasty}`,
  name: "pageview",
  ts: Date.UTC(2026, 10, 28, 1, 2, 3, 45),
  seq: 1764291723045001,
  receivedAt: Date.UTC(2026, 10, 28, 1, 2, 4, 5),
  url: `https://a.example/p?q=${encodeURIComponent(nasty)}`,
  referrer: nasty,
  props: { text: nasty, n: 3, ok: true },
  userId: nasty,
  context: { browser: "Chrome", os: "Linux", device: "desktop", country: "DE", region: nasty, city: "Köln", bot: false },
};

it("the column lists are the tables' columns and the row builders' fields", async () => {
  for (const table of ["events", "sessions"] as const) {
    const cols = await temp.store.query<{ name: string }>(`SELECT name FROM system.columns WHERE database = 'tsv' AND table = {table:String}`, { table });
    expect([...columnsOf(table)].sort()).toEqual(cols.map((c) => c.name).sort());
  }
  const row = eventRow({ event, sessionId: "x", version: 1, source: "a", medium: "b", channel: "c" });
  expect(Object.keys(row).sort()).toEqual([...columnsOf("events")].sort());
});

it("rows inserted as TabSeparated read back exactly as built, missing fields as defaults", async () => {
  const row = eventRow({ event, sessionId: `sess ${nasty}`, version: 7, source: nasty, medium: "(none)", channel: "Direct" });
  await temp.store.insertEncoded("events", "TabSeparated", tsvRows([row], "events"));
  const [back] = await temp.store.query<Record<string, unknown>>(`SELECT * FROM tsv.events`, {});
  expect(Object.fromEntries(Object.entries(back ?? {}).map(([k, v]) => [k, String(v)]))).toEqual(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])));

  const session = sessionRow({
    id: "s1", site: "s", visitor: nasty, start: event.ts, end: event.ts + 5000, pageviews: 2, events: 3, landingPage: nasty, exitPage: "/x", referrer: nasty, source: "google", medium: "organic",
    campaign: nasty, channel: "Organic Search", browser: "Chrome", os: "Linux", device: "desktop", country: "DE", bot: false, keyEvents: 1, engaged: true, userId: "", version: 9,
  } as Parameters<typeof sessionRow>[0]);
  const tomb = tombstoneRow({ id: "s0", site: "s", visitor: nasty, start: event.ts - 1000, version: 10 } as Parameters<typeof tombstoneRow>[0]);
  await temp.store.insertEncoded("sessions", "TabSeparated", tsvRows([session, tomb], "sessions"));
  const rows = await temp.store.query<Record<string, unknown>>(`SELECT * FROM tsv.sessions ORDER BY session_id`, {});
  expect(rows).toHaveLength(2);
  const [t, s] = rows;
  expect(Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [k, String(v)]))).toEqual(Object.fromEntries(Object.entries(session).map(([k, v]) => [k, String(v)])));
  expect(t).toMatchObject({ session_id: "s0", visitor_id: nasty, is_deleted: 1, pageviews: 0, landing_page: "", end: "1970-01-01 00:00:00.000" });
});

it("an encoded insert the engine cannot parse fails as a store error that retrying will not mend, and inserts nothing", async () => {
  const before = await temp.store.query<{ c: string }>(`SELECT count() AS c FROM tsv.events`, {});
  const bad = Buffer.from("only\tthree\tfields\n");
  const error = await temp.store.insertEncoded("events", "TabSeparated", bad).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).retryable).toBe(false);
  expect((error as StoreError).message).toMatch(/insert into events/);
  expect(await temp.store.query<{ c: string }>(`SELECT count() AS c FROM tsv.events`, {})).toEqual(before);
  // JSONEachRow bodies take the same path.
  await temp.store.insertEncoded("events", "JSONEachRow", Buffer.from(`${JSON.stringify({ site: "j", event_id: "json-1", ts: "2026-11-28 01:00:00.000" })}\n`));
  expect(await temp.store.query<{ c: number }>(`SELECT toUInt32(count()) AS c FROM tsv.events WHERE event_id = 'json-1'`, {})).toEqual([{ c: 1 }]);
});
