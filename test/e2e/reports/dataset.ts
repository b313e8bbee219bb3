// Deterministic pseudo-random numbers, so that a failure can be replayed: the load generator's.
import { rng as random } from "../../../bench/load/model.js";
/**
 * A generated dataset with known truth for the report oracle: several sites in different time
 * zones, visitors returning over several days, visits around local midnight, sessions split by
 * each site's timeout, late events, bots, traffic sources, countries, devices and custom events.
 */

const MIN = 60_000;
const DAY = 86_400_000;

export interface OracleSite {
  readonly id: string;
  readonly timezone: string;
  readonly timeoutMs: number;
}

export const SITES: readonly OracleSite[] = [
  { id: "utc", timezone: "UTC", timeoutMs: 30 * MIN },
  { id: "ny", timezone: "America/New_York", timeoutMs: 30 * MIN },
  { id: "kol", timezone: "Asia/Kolkata", timeoutMs: 30 * MIN },
  { id: "akl", timezone: "Pacific/Auckland", timeoutMs: 20 * MIN },
];

export const KEY_EVENTS: ReadonlySet<string> = new Set(["purchase", "sign_up", "signup", "generate_lead"]);

export const BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
export const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];
// Great Britain, the Netherlands, the United States, Australia, and a private address that no database places.
export const IPS = ["81.2.69.142", "193.0.6.139", "8.8.8.8", "1.1.1.1", "10.1.2.3"];

export interface SentEvent {
  readonly id: string;
  readonly site: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly ts: number;
  readonly props: Readonly<Record<string, string | number | boolean>>;
  readonly ua: string;
  readonly ip: string;
  readonly bot: boolean;
}

const TRAFFIC = [
  { query: "", referrer: "" },
  { query: "", referrer: "https://www.google.com/" },
  { query: "", referrer: "https://news.example.org/story?id=1" },
  { query: "?utm_source=newsletter&utm_medium=email&utm_campaign=nov_sale", referrer: "" },
  { query: "?utm_source=google&utm_medium=cpc&utm_campaign=brand", referrer: "" },
];
const PAGES = ["/", "/pricing", "/docs/a", "/docs/b", "/blog/o'brien?ref=1", "/ünï"];

/** The UTC instant of a wall-clock time in a zone (two rounds of offset correction). */
export const zonedTime = (day: string, minuteOfDay: number, tz: string): number => {
  const wall = Date.parse(`${day}T00:00:00Z`) + minuteOfDay * MIN;
  const offset = (t: number): number => {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
        .formatToParts(new Date(t))
        .map((x) => [x.type, Number(x.value)]),
    );
    return Date.UTC(p["year"] ?? 0, (p["month"] ?? 1) - 1, p["day"] ?? 1, p["hour"] ?? 0, p["minute"] ?? 0, p["second"] ?? 0) - Math.floor(t / 1000) * 1000;
  };
  const first = wall - offset(wall);
  return wall - offset(first);
};

export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

/**
 * Events of one site over seven local days from `firstDay`, plus a few in the minutes before
 * `now` for the realtime report. `sendOrder` is how they go to the edge: per visitor, with some
 * visits' first event sent last (a late event that moves its session's start and landing page).
 */
export const generateSite = (site: OracleSite, firstDay: string, now: number, seed: number): { events: SentEvent[]; sendOrder: SentEvent[][] } => {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const events: SentEvent[] = [];
  const sendOrder: SentEvent[][] = [];
  const visitors = 36;
  for (let v = 0; v < visitors + 4; v++) {
    const bot = v >= visitors - 3 && v < visitors;
    const realtimeOnly = v >= visitors;
    const visitor = `${site.id}-v${v}${v % 5 === 0 ? "'\"; --" : ""}`;
    const ua = bot ? BOT_UA : (USER_AGENTS[v % USER_AGENTS.length] as string);
    const ip = IPS[(v * 7) % IPS.length] as string;
    const days = realtimeOnly ? [] : [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * 7)))].sort((a, b) => a - b);
    const visitStarts = days.map((d) => {
      const nearMidnight = rnd() < 0.25;
      const minute = nearMidnight ? 23 * 60 + 40 + Math.floor(rnd() * 18) : 6 * 60 + Math.floor(rnd() * 16 * 60);
      return zonedTime(addDays(firstDay, d), minute, site.timezone) + Math.floor(rnd() * 59_000);
    });
    if (realtimeOnly) visitStarts.push(now - (4 + Math.floor(rnd() * 15)) * MIN);
    const mine: SentEvent[] = [];
    const order: SentEvent[] = [];
    visitStarts.forEach((start, visit) => {
      const traffic = pick(TRAFFIC);
      const n = realtimeOnly ? 2 : 1 + Math.floor(rnd() * 6);
      let ts = start;
      const these: SentEvent[] = [];
      for (let k = 0; k < n; k++) {
        if (k > 0) {
          const r = rnd();
          // Gaps: mostly short; some 25 minutes (a new session only where the timeout is 20), some 45 (a new session everywhere).
          ts += r < 0.1 ? 25 * MIN : r < 0.15 ? 45 * MIN : realtimeOnly ? 20_000 : 3_000 + Math.floor(rnd() * 6 * MIN);
        }
        const r = rnd();
        const name = k === 0 && r < 0.8 ? "pageview" : r < 0.6 ? "pageview" : r < 0.7 ? "signup" : r < 0.85 ? "download" : "purchase";
        const page = pick(PAGES);
        const host = page.startsWith("/docs") ? `docs.${site.id}.example` : `www.${site.id}.example`;
        const first = k === 0;
        const url = `https://${host}${page}${first && traffic.query ? (page.includes("?") ? traffic.query.replace("?", "&") : traffic.query) : ""}`;
        const props: Record<string, string | number | boolean> =
          name === "download" ? { file: pick(["a.pdf", "b.zip", "it's.txt"]), size: 1 + Math.floor(rnd() * 900) } : name === "purchase" ? { plan: pick(["pro", "team"]), value: pick([9.5, 20]), trial: rnd() < 0.5 } : {};
        these.push({ id: `${site.id}-${v}-${visit}-${k}`, site: site.id, visitor, name, url, referrer: first ? traffic.referrer : "", ts, props, ua, ip, bot });
      }
      mine.push(...these);
      const late = these.length >= 3 && rnd() < 0.4;
      order.push(...(late ? [...these.slice(1), these[0] as SentEvent] : these));
    });
    events.push(...mine);
    sendOrder.push(order);
  }
  return { events, sendOrder };
};
