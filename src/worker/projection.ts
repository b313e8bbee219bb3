import type { PlacedEvent, SessionAgg, SessionTombstone } from "../../actors/session/reducer.js";

const DAY_MS = 86_400_000;
const pad2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const pad3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
let cachedDay = Number.NaN;
let cachedDate = "";

/**
 * ClickHouse DateTime64(3) text form, in UTC. Built from parts with the date cached: two
 * `toISOString().replace()` per row were a few percent of the worker's time.
 */
export const chTime = (ms: number): string => {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11).replace("T", " ");
  }
  let rest = Math.floor(ms - day * DAY_MS);
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  return `${cachedDate}${pad2[Math.floor(rest / 60)] as string}:${pad2[rest % 60] as string}:${pad2[sec] as string}.${pad3[milli] as string}`;
};

interface UrlParts {
  readonly hostname: string;
  readonly path: string;
}
// A site's pages repeat from event to event, and `new URL()` per row was about 6% of a worker's or
// a rebuild's time. Emptied when full rather than kept in recency order: cheaper, and a page
// that matters comes back within a few rows.
const urlCache = new Map<string, UrlParts>();
const URL_CACHE_SIZE = 20_000;

const urlParts = (raw: string): UrlParts => {
  const known = urlCache.get(raw);
  if (known) return known;
  let parts: UrlParts;
  try {
    const u = new URL(raw);
    parts = { hostname: u.hostname, path: u.pathname };
  } catch {
    parts = { hostname: "", path: "" };
  }
  if (urlCache.size >= URL_CACHE_SIZE) urlCache.clear();
  urlCache.set(raw, parts);
  return parts;
};

export const eventRow = ({ event: e, sessionId, version, source, medium, channel }: PlacedEvent): Record<string, unknown> => {
  const u = urlParts(e.url);
  return {
    site: e.site,
    event_id: e.id,
    visitor_id: e.visitor,
    session_id: sessionId,
    ts: chTime(e.ts),
    seq: e.seq,
    name: e.name,
    url: e.url,
    hostname: u.hostname,
    path: u.path,
    referrer: e.referrer,
    props: JSON.stringify(e.props),
    user_id: e.userId ?? "",
    source,
    medium,
    channel,
    browser: e.context?.browser ?? "",
    os: e.context?.os ?? "",
    device: e.context?.device ?? "",
    country: e.context?.country ?? "",
    region: e.context?.region ?? "",
    city: e.context?.city ?? "",
    is_bot: e.context?.bot ? 1 : 0,
    received_at: chTime(e.receivedAt),
    version,
  };
};

export const sessionRow = (s: SessionAgg): Record<string, unknown> => ({
  site: s.site,
  session_id: s.id,
  visitor_id: s.visitor,
  start: chTime(s.start),
  end: chTime(s.end),
  pageviews: s.pageviews,
  events: s.events,
  landing_page: s.landingPage,
  exit_page: s.exitPage,
  referrer: s.referrer,
  source: s.source,
  medium: s.medium,
  campaign: s.campaign,
  channel: s.channel,
  browser: s.browser,
  os: s.os,
  device: s.device,
  country: s.country,
  is_bot: s.bot ? 1 : 0,
  duration_ms: s.end - s.start,
  key_events: s.keyEvents,
  engaged: s.engaged ? 1 : 0,
  user_id: s.userId,
  version: s.version,
  is_deleted: 0,
});

/** Replaces a session row that no longer exists; readers with FINAL no longer see it. */
export const tombstoneRow = (t: SessionTombstone): Record<string, unknown> => ({
  site: t.site,
  session_id: t.id,
  visitor_id: t.visitor,
  start: chTime(t.start),
  version: t.version,
  is_deleted: 1,
});
