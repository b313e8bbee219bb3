import { invalid, quote } from "./input.js";
import type { DateRange } from "./spec.js";

/** Days and instants in a site's time zone. Pure: "now" is always passed in. */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

const formatter = (tz: string): Intl.DateTimeFormat => {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch {
      throw invalid(`the site's time zone ${quote(tz)} is not a known IANA time zone`);
    }
    formatters.set(tz, f);
  }
  return f;
};

/** The wall-clock fields of an instant in a zone. */
const wallClock = (tz: string, ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } => {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { y: parts["year"] ?? 0, mo: parts["month"] ?? 1, d: parts["day"] ?? 1, h: parts["hour"] ?? 0, mi: parts["minute"] ?? 0, s: parts["second"] ?? 0 };
};

/** How far the zone's wall clock is ahead of UTC at an instant. */
export const offsetMs = (tz: string, ms: number): number => {
  const w = wallClock(tz, ms);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
};

/** Throws the query error if the zone is unknown. */
export const checkZone = (tz: string): void => {
  formatter(tz);
};

/** The instant a local day starts in a zone. */
export const dayStart = (day: string, tz: string): number => {
  const guess = Date.parse(`${day}T00:00:00Z`);
  const first = guess - offsetMs(tz, guess);
  return guess - offsetMs(tz, first);
};

/** The local day (YYYY-MM-DD) of an instant. */
export const localDay = (ms: number, tz: string): string => {
  const w = wallClock(tz, ms);
  return `${String(w.y).padStart(4, "0")}-${String(w.mo).padStart(2, "0")}-${String(w.d).padStart(2, "0")}`;
};

const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const AGO = /^(\d{1,4})daysAgo$/;

/** Checks a day as written in a spec: a real YYYY-MM-DD, today, yesterday or NdaysAgo. */
export const checkDay = (v: string, field: string): void => {
  if (v === "today" || v === "yesterday" || AGO.test(v)) return;
  // Date.parse rolls 2026-02-30 over to March; a real day survives the round trip unchanged.
  const real = DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
  if (!real) throw invalid(`"${field}" must be a real day like 2026-11-27, or today, yesterday, NdaysAgo; got ${quote(v)}`);
};

export const resolveDay = (v: string, tz: string, nowMs: number): string => {
  const today = localDay(nowMs, tz);
  if (v === "today") return today;
  if (v === "yesterday") return addDays(today, -1);
  const ago = AGO.exec(v)?.[1];
  return ago === undefined ? v : addDays(today, -Number(ago));
};

/** A range of instants, [fromMs, toMs). */
export interface Interval {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

const MAX_DAYS = 3700;

/** A date range as instants: from the start of its first local day to the start of the day after its last. */
export const interval = (r: DateRange, tz: string, nowMs: number, field: string): Interval => {
  const start = resolveDay(r.startDate, tz, nowMs);
  const end = resolveDay(r.endDate, tz, nowMs);
  if (end < start) throw invalid(`"${field}" ends (${end}) before it starts (${start})`);
  if ((Date.parse(end) - Date.parse(start)) / DAY_MS > MAX_DAYS) throw invalid(`"${field}" spans more than ${MAX_DAYS} days`);
  return { name: r.name, fromMs: dayStart(start, tz), toMs: dayStart(addDays(end, 1), tz) };
};

/**
 * Whether hourly UTC buckets cut the interval exactly into the zone's local hours: its ends fall
 * on whole hours and the zone's offset stays a whole number of hours throughout (not so in
 * Asia/Kolkata, +05:30). Offsets change at most a few times a year, so a look every six hours finds every change.
 */
export const onWholeHours = (i: Interval, tz: string): boolean => {
  if (i.fromMs % HOUR_MS !== 0 || i.toMs % HOUR_MS !== 0) return false;
  for (let t = i.fromMs; t < i.toMs; t += 6 * HOUR_MS) if (offsetMs(tz, t) % HOUR_MS !== 0) return false;
  return offsetMs(tz, i.toMs - 1) % HOUR_MS === 0;
};

/** The whole UTC days inside an interval, if there is one: the daily rollups serve those. */
export const wholeUtcDays = (i: Interval): Interval | undefined => {
  const fromMs = Math.ceil(i.fromMs / DAY_MS) * DAY_MS;
  const toMs = Math.floor(i.toMs / DAY_MS) * DAY_MS;
  return toMs > fromMs ? { name: i.name, fromMs, toMs } : undefined;
};

/** ClickHouse DateTime64(3) text in UTC, as bound parameters carry instants. */
export const chTime = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
