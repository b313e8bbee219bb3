/**
 * The truth the reports must match, computed plainly from the events sent: sessions by sorting
 * each visitor's events by time and cutting where a gap exceeds the site's timeout, then every
 * metric counted by hand as docs/reports.md defines it.
 */
import { KEY_EVENTS, type OracleSite, type SentEvent } from "./dataset.js";

/** What the edge's classifiers make of a visitor's client; the reports, not the classifiers, are under test here. */
export interface ClientFacts {
  readonly device: string;
  readonly browser: string;
  readonly os: string;
  readonly country: string;
  readonly region: string;
  readonly city: string;
}

export interface OSession {
  readonly visitor: string;
  readonly events: SentEvent[];
  start: number;
  end: number;
  first: boolean;
}

export interface OracleData {
  readonly site: OracleSite;
  readonly events: readonly SentEvent[];
  readonly sessions: readonly OSession[];
  readonly sessionOf: ReadonlyMap<SentEvent, OSession>;
  readonly facts: (e: SentEvent) => ClientFacts;
}

export const sessionize = (site: OracleSite, sent: readonly SentEvent[], facts: (e: SentEvent) => ClientFacts): OracleData => {
  const events = sent.filter((e) => !e.bot);
  const byVisitor = new Map<string, SentEvent[]>();
  for (const e of events) byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), e]);
  const sessions: OSession[] = [];
  const sessionOf = new Map<SentEvent, OSession>();
  for (const [visitor, list] of byVisitor) {
    list.sort((a, b) => a.ts - b.ts);
    let current: OSession | undefined;
    for (const e of list) {
      if (!current || e.ts - current.end > site.timeoutMs) {
        current = { visitor, events: [], start: e.ts, end: e.ts, first: current === undefined };
        sessions.push(current);
      }
      current.events.push(e);
      current.end = e.ts;
      sessionOf.set(e, current);
    }
  }
  return { site, events, sessions, sessionOf, facts };
};

// ---- what a session says about itself ----

const pageviews = (s: OSession): SentEvent[] => s.events.filter((e) => e.name === "pageview");
const keyEvents = (s: OSession): number => s.events.filter((e) => KEY_EVENTS.has(e.name)).length;
const engaged = (s: OSession): boolean => s.end - s.start >= 10_000 || pageviews(s).length >= 2 || keyEvents(s) > 0;
const path = (url: string | undefined): string => (url ? new URL(url).pathname : "");

/** Attribution of the dataset's traffic: UTM tags, else a search engine, another site, or nothing. */
const attribution = (s: OSession): { source: string; medium: string; campaign: string; channel: string } => {
  const first = s.events[0] as SentEvent;
  const q = new URL(first.url).searchParams;
  const utm = q.get("utm_source");
  if (utm) {
    const medium = q.get("utm_medium") ?? "(not set)";
    return { source: utm, medium, campaign: q.get("utm_campaign") ?? "(not set)", channel: medium === "email" ? "Email" : "Paid Search" };
  }
  if (first.referrer === "") return { source: "(direct)", medium: "(none)", campaign: "(direct)", channel: "Direct" };
  const host = new URL(first.referrer).hostname.replace(/^www\./, "");
  if (host === "google.com") return { source: "google", medium: "organic", campaign: "(organic)", channel: "Organic Search" };
  return { source: host, medium: "referral", campaign: "(referral)", channel: "Referral" };
};

// ---- time in the site's zone ----

const wall = (ms: number, tz: string): { y: number; m: number; d: number; h: number } => {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit" })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, Number(x.value)]),
  );
  return { y: p["year"] ?? 0, m: p["month"] ?? 0, d: p["day"] ?? 0, h: p["hour"] ?? 0 };
};
const two = (n: number): string => String(n).padStart(2, "0");

export const localDate = (ms: number, tz: string): string => {
  const w = wall(ms, tz);
  return `${w.y}-${two(w.m)}-${two(w.d)}`;
};

const isoWeek = (ms: number, tz: string): string => {
  const w = wall(ms, tz);
  // The ISO year and week are those of the Thursday of the same Monday-to-Sunday week.
  const thursday = new Date(Date.UTC(w.y, w.m - 1, w.d));
  thursday.setUTCDate(thursday.getUTCDate() - ((thursday.getUTCDay() + 6) % 7) + 3);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}${two(week)}`;
};

export const mondayOf = (ms: number, tz: string): string => {
  const w = wall(ms, tz);
  const date = new Date(Date.UTC(w.y, w.m - 1, w.d));
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
};

const timeDims = (ms: number, tz: string): Record<string, string> => {
  const w = wall(ms, tz);
  return { date: `${w.y}${two(w.m)}${two(w.d)}`, hour: two(w.h), dateHour: `${w.y}${two(w.m)}${two(w.d)}${two(w.h)}`, week: isoWeek(ms, tz), month: `${w.y}${two(w.m)}` };
};

// ---- dimension values of an event and of a session ----

export const EVENT_ONLY = new Set(["pagePath", "hostName", "eventName", "pageReferrer", "region", "city"]);
export const SESSION_ONLY = new Set(["landingPage", "exitPage", "sessionCampaignName"]);
export const isParam = (d: string): boolean => d.startsWith("param:");

const paramValue = (e: SentEvent, key: string): string => {
  const v = e.props[key];
  return v === undefined ? "(not set)" : typeof v === "string" ? v : JSON.stringify(v);
};

export const eventDim = (data: OracleData, e: SentEvent, d: string): string | undefined => {
  if (isParam(d)) return paramValue(e, d.slice("param:".length));
  const s = data.sessionOf.get(e) as OSession;
  const a = attribution(s);
  const f = data.facts(e);
  const u = new URL(e.url);
  const values: Record<string, string> = {
    ...timeDims(e.ts, data.site.timezone),
    pagePath: u.pathname,
    hostName: u.hostname,
    eventName: e.name,
    pageReferrer: e.referrer,
    sessionSource: a.source,
    sessionMedium: a.medium,
    sessionDefaultChannelGroup: a.channel,
    country: f.country,
    region: f.region,
    city: f.city,
    deviceCategory: f.device,
    browser: f.browser,
    operatingSystem: f.os,
  };
  return values[d];
};

export const sessionDim = (data: OracleData, s: OSession, d: string): string | undefined => {
  const a = attribution(s);
  const f = data.facts(s.events[0] as SentEvent);
  const values: Record<string, string> = {
    ...timeDims(s.start, data.site.timezone),
    landingPage: path(pageviews(s)[0]?.url),
    exitPage: path(pageviews(s).at(-1)?.url),
    sessionSource: a.source,
    sessionMedium: a.medium,
    sessionCampaignName: a.campaign,
    sessionDefaultChannelGroup: a.channel,
    country: f.country,
    deviceCategory: f.device,
    browser: f.browser,
    operatingSystem: f.os,
  };
  return values[d];
};

// ---- a report by hand ----

export type Row = Record<string, string | number>;
/** A filter over dimension values, applied to events and sessions alike. */
export type Predicate = (value: (dimension: string) => string | undefined) => boolean;

export interface OracleQuery {
  readonly dimensions: readonly string[];
  readonly metrics: readonly string[];
  /** Local days, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly filter?: Predicate;
  /** Dimensions the filter reads, which decide where visitors are counted like requested ones. */
  readonly filterDimensions?: readonly string[];
}

interface Acc {
  views: number;
  events: number;
  keys: number;
  eUsers: Set<string>;
  sessions: number;
  engaged: number;
  sViews: number;
  duration: number;
  keySessions: number;
  sUsers: Set<string>;
  newUsers: number;
}

const empty = (): Acc => ({ views: 0, events: 0, keys: 0, eUsers: new Set(), sessions: 0, engaged: 0, sViews: 0, duration: 0, keySessions: 0, sUsers: new Set(), newUsers: 0 });

const metric = (name: string, a: Acc, usersOnEvents: boolean): number => {
  const per = (n: number): number => (a.sessions === 0 ? 0 : n / a.sessions);
  switch (name) {
    case "activeUsers":
      return (usersOnEvents ? a.eUsers : a.sUsers).size;
    case "newUsers":
      return a.newUsers;
    case "sessions":
      return a.sessions;
    case "engagedSessions":
      return a.engaged;
    case "engagementRate":
      return per(a.engaged);
    case "bounceRate":
      return a.sessions === 0 ? 0 : 1 - a.engaged / a.sessions;
    case "screenPageViews":
      return a.views;
    case "screenPageViewsPerSession":
      return per(a.sViews);
    case "averageSessionDuration":
      return per(a.duration / 1000);
    case "eventCount":
      return a.events;
    case "keyEvents":
      return a.keys;
    case "sessionKeyEventRate":
      return per(a.keySessions);
  }
  throw new Error(`no oracle for ${name}`);
};

const EVENT_METRICS = new Set(["screenPageViews", "eventCount", "keyEvents"]);

/** Rows of a report, all-zero rows dropped, ordered by the dimensions. */
export const report = (data: OracleData, q: OracleQuery): Row[] => {
  const tz = data.site.timezone;
  const inRange = (ms: number): boolean => {
    const day = localDate(ms, tz);
    return day >= q.from && day <= q.to;
  };
  const asked = [...q.dimensions, ...(q.filterDimensions ?? [])];
  const usersOnEvents = asked.every((d) => !SESSION_ONLY.has(d));
  const needEvents = q.metrics.some((m) => EVENT_METRICS.has(m)) || (q.metrics.includes("activeUsers") && usersOnEvents);
  const needSessions = q.metrics.some((m) => !EVENT_METRICS.has(m) && m !== "activeUsers") || (q.metrics.includes("activeUsers") && !usersOnEvents);
  const rows = new Map<string, { keys: string[]; acc: Acc }>();
  const at = (keys: string[]): Acc => {
    const k = JSON.stringify(keys);
    const row = rows.get(k) ?? { keys, acc: empty() };
    rows.set(k, row);
    return row.acc;
  };
  if (needEvents) {
    for (const e of data.events) {
      if (!inRange(e.ts)) continue;
      const value = (d: string): string | undefined => eventDim(data, e, d);
      if (q.filter && !q.filter(value)) continue;
      const a = at(q.dimensions.map((d) => value(d) as string));
      a.events++;
      if (e.name === "pageview") a.views++;
      if (KEY_EVENTS.has(e.name)) a.keys++;
      a.eUsers.add(e.visitor);
    }
  }
  if (needSessions) {
    for (const s of data.sessions) {
      if (!inRange(s.start)) continue;
      const value = (d: string): string | undefined => sessionDim(data, s, d);
      if (q.filter && !q.filter(value)) continue;
      const a = at(q.dimensions.map((d) => value(d) as string));
      a.sessions++;
      if (engaged(s)) a.engaged++;
      a.sViews += pageviews(s).length;
      a.duration += s.end - s.start;
      if (keyEvents(s) > 0) a.keySessions++;
      a.sUsers.add(s.visitor);
      if (s.first) a.newUsers++;
    }
  }
  const out: Row[] = [];
  for (const { keys, acc } of rows.values()) {
    const row: Row = {};
    q.dimensions.forEach((d, i) => (row[d] = keys[i] as string));
    for (const m of q.metrics) row[m] = metric(m, acc, usersOnEvents);
    if (q.metrics.some((m) => row[m] !== 0)) out.push(row);
  }
  return out.sort((a, b) => {
    for (const d of q.dimensions) if (a[d] !== b[d]) return String(a[d]) < String(b[d]) ? -1 : 1;
    return 0;
  });
};

/** Events in the last minutes before `now`, by event time, as a realtime report counts them. */
export const realtime = (data: OracleData, now: number, dimensions: readonly string[], metrics: readonly string[]): Row[] => {
  const recent = data.events.filter((e) => e.ts > now - 30 * 60_000 && e.ts <= now);
  const rows = new Map<string, { keys: string[]; acc: Acc }>();
  for (const e of recent) {
    const keys = dimensions.map((d) => eventDim(data, e, d) as string);
    const k = JSON.stringify(keys);
    const row = rows.get(k) ?? { keys, acc: empty() };
    rows.set(k, row);
    row.acc.events++;
    if (e.name === "pageview") row.acc.views++;
    if (KEY_EVENTS.has(e.name)) row.acc.keys++;
    row.acc.eUsers.add(e.visitor);
  }
  return [...rows.values()]
    .map(({ keys, acc }) => Object.fromEntries([...dimensions.map((d, i) => [d, keys[i] as string]), ...metrics.map((m) => [m, metric(m, acc, true)])]) as Row)
    .sort((a, b) => (JSON.stringify(dimensions.map((d) => a[d])) < JSON.stringify(dimensions.map((d) => b[d])) ? -1 : 1));
};

/** How many visitors (or sessions) did steps 1..N in order, each strictly after the previous, within the window of the first. */
export const funnel = (data: OracleData, from: string, to: string, steps: readonly ((e: SentEvent) => boolean)[], scope: "visitor" | "session", windowMs: number): number[] => {
  const groups = new Map<unknown, SentEvent[]>();
  for (const e of data.events) {
    const day = localDate(e.ts, data.site.timezone);
    if (day < from || day > to) continue;
    const key = scope === "visitor" ? e.visitor : data.sessionOf.get(e);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const reached = steps.map(() => 0);
  for (const list of groups.values()) {
    list.sort((a, b) => a.ts - b.ts);
    let best = 0;
    list.forEach((start, i) => {
      if (!steps[0]?.(start)) return;
      let level = 1;
      let last = start.ts;
      for (const e of list.slice(i + 1)) {
        const step = steps[level];
        if (step && e.ts > last && e.ts - start.ts <= windowMs && step(e)) {
          level++;
          last = e.ts;
        }
      }
      best = Math.max(best, level);
    });
    for (let k = 0; k < best; k++) reached[k] = (reached[k] ?? 0) + 1;
  }
  return reached;
};

/** Weekly cohorts by first session, and who came back in week N. */
export const retention = (data: OracleData, from: string, to: string, today: string, weeks: number): Row[] => {
  const tz = data.site.timezone;
  const firsts = data.sessions.filter((s) => s.first && localDate(s.start, tz) >= from && localDate(s.start, tz) <= to);
  const cohortOf = new Map(firsts.map((s) => [s.visitor, mondayOf(s.start, tz)]));
  const back = new Map<string, Set<string>>();
  for (const s of data.sessions) {
    const cohort = cohortOf.get(s.visitor);
    if (cohort === undefined) continue;
    const n = Math.round((Date.parse(mondayOf(s.start, tz)) - Date.parse(cohort)) / (7 * 86_400_000));
    const k = `${cohort}|${n}`;
    back.set(k, (back.get(k) ?? new Set()).add(s.visitor));
  }
  const rows: Row[] = [];
  for (const cohort of [...new Set(cohortOf.values())].sort()) {
    const size = back.get(`${cohort}|0`)?.size ?? 0;
    const begun = Math.floor((Date.parse(today) - Date.parse(cohort)) / (7 * 86_400_000));
    for (let n = 0; n <= Math.min(weeks, begun); n++) {
      const users = back.get(`${cohort}|${n}`)?.size ?? 0;
      rows.push({ cohort, week: String(n), cohortUsers: size, activeUsers: users, retentionRate: size === 0 ? 0 : users / size });
    }
  }
  return rows;
};
