import { ROLLUP_MEASURES } from "../../infra/clickhouse/schema.js";
import type { AnalyticsStore, QueryParams } from "../../infra/clickhouse/store.js";

// Touched hours are written into the SQL up to this many bytes, well under the 256 KiB of SQL ClickHouse parses.
const MAX_LITERAL_BYTES = 64 * 1024;

/** A ClickHouse string literal. */
const quote = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
/** The distinct sites as a ClickHouse array literal: `['a', 'b']`. */
const siteList = (sites: readonly string[]): string => `[${[...new Set(sites)].map(quote).join(", ")}]`;

export interface RefresherOptions {
  /**
   * Older generations are deleted at most this often (0: right after each refresh). A delete
   * costs chDB about as much as the refresh itself, and readers skip older generations anyway.
   */
  readonly collectEveryMs?: number;
  /**
   * Daily rows (by one dimension) are made at most this often (0: in every refresh), for the days whose hours were
   * recomputed since. Under steady traffic today's hours change every second, and merging a whole day's hours each
   * time would cost a core what a report saves; readers read the hours of a day whose daily rows are behind.
   */
  readonly daysEveryMs?: number;
  /** Threads per statement (ClickHouse's max_threads); unset: the store's default. */
  readonly maxThreads?: number;
  readonly now?: () => number;
}

/**
 * A row's distinct visitors: a roaring bitmap of their numbers. Each visitor of a site gets a dense
 * number (visitor_numbers) the first time a refresh sees it, keyed by a 64-bit hash of its id:
 * exact unless two visitor ids of a site share a key (odds about n²/2^65: 3e-8 for a million
 * visitors). Bitmaps of dense numbers merge without hashing, several times faster than sets of keys.
 * A row whose visitor has no number yet (its rows were inserted while this refresh ran) is left out
 * of the bitmap; the insert touched its hour again, so the next refresh counts it, and reports read
 * the raw tables until then.
 */
const VISITOR_BITS = "groupBitmapStateIf(num, num > 0)";

/**
 * Keeps the hourly rollups exact: every hour that a flush wrote events or sessions into is
 * recomputed from the deduplicated tables as a new generation, at most once per interval.
 * A generation is recorded in rollup_generations once its rows are in every table, and readers take each hour's
 * (and day's) generation recorded last (see compile-table.ts). Older generations are deleted once superseded,
 * right away or in batches (see RefresherOptions). Days follow their hours, at most once per `daysEveryMs`.
 */
export class RollupRefresher {
  private readonly touched = new Map<string, Set<string>>();
  /** Days (`YYYY-MM-DD 00:00:00`) whose hours were recomputed since their daily rows were last made. */
  private readonly days = new Map<string, Set<string>>();
  private lastDays = Number.NEGATIVE_INFINITY;
  private readonly daysEveryMs: number;
  /** Sites whose hours a refresh under way is recomputing. */
  private readonly refreshing = new Map<string, number>();
  /** Hours recomputed since their older generations were last deleted, with their newest generation. */
  private readonly superseded = new Map<string, { readonly db: string; readonly site: string; readonly hour: string; readonly gen: number }>();
  private lastCollect: number;
  private gen = 0;
  private readonly collectEveryMs: number;
  private readonly settings: string;
  private readonly now: () => number;

  constructor(
    private readonly store: AnalyticsStore,
    options: RefresherOptions = {},
  ) {
    this.collectEveryMs = options.collectEveryMs ?? 0;
    this.daysEveryMs = options.daysEveryMs ?? 0;
    this.settings = options.maxThreads ? `\n       SETTINGS max_threads = ${options.maxThreads}` : "";
    this.now = options.now ?? Date.now;
    this.lastCollect = this.now();
  }

  /** Notes the hours that projection rows fall in, as (site, `YYYY-MM-DD HH:00:00`) pairs (see RowsMessage). */
  touch(hours: Iterable<readonly [string, string]>): void {
    for (const [site, hour] of hours) addPeriod(this.touched, site, hour);
  }

  /** Sites with hours to recompute, or with days whose daily rows are due. */
  get pending(): number {
    return this.touched.size + (this.daysDue(false) ? this.days.size : 0);
  }

  /** Whether there are days to make, and it is time (or `now` asks for them regardless). */
  private daysDue(now: boolean): boolean {
    return this.days.size > 0 && (now || this.now() - this.lastDays >= this.daysEveryMs);
  }

  /** Whether the site has rows inserted that its rollups do not reflect yet. */
  behind(site: string): boolean {
    return this.touched.has(site) || this.refreshing.has(site);
  }

  /**
   * Recomputes every touched hour of every site in one statement per table: a statement per
   * site cost chDB about as much per site as for all of them, so that refreshes with many
   * sites fell behind. Then, when due (or with `allDays`), the daily rows of the days those hours
   * fall in. On failure the hours and days are kept, and the next call retries.
   * Returns the sites whose hourly rollups changed (daily rows do not change any answer).
   */
  async refresh(allDays = false): Promise<ReadonlySet<string>> {
    const work = pairsOf(this.touched);
    this.touched.clear();
    if (work.sites.length === 0 && !this.daysDue(allDays)) return new Set();
    // Reports read the raw tables until these sites' inserted rows are in their rollups (see `behind`). Daily rows
    // change no answer, and readers see them only once their generation is recorded, so days hold up nothing.
    const busy = [...new Set(work.sites)];
    for (const site of busy) this.refreshing.set(site, (this.refreshing.get(site) ?? 0) + 1);
    try {
      if (work.sites.length > 0) await this.refreshHours(work.sites, work.periods);
    } catch (e) {
      add(this.touched, work.sites, work.periods);
      throw e;
    } finally {
      for (const site of busy) {
        const n = (this.refreshing.get(site) ?? 1) - 1;
        if (n > 0) this.refreshing.set(site, n);
        else this.refreshing.delete(site);
      }
    }
    // Hours just recomputed add their days; the time since the last days is unchanged.
    if (this.daysDue(allDays)) await this.refreshDays();
    return new Set(work.sites);
  }

  private async refreshHours(sites: readonly string[], hours: readonly string[]): Promise<void> {
    const db = this.store.database;
    const gen = await this.recompute(sites, hours);
    sites.forEach((site, i) => this.superseded.set(`${site}\u001f${hours[i] as string}`, { db, site, hour: hours[i] as string, gen }));
    add(
      this.days,
      sites,
      hours.map((h) => `${h.slice(0, 10)} 00:00:00`),
    );
    if (this.now() - this.lastCollect >= this.collectEveryMs) await this.collect();
  }

  /**
   * Makes the daily rows of the pending days from the current generation of each of their hours, then records the
   * days' new generation (see rollup_generations), and deletes the days' older daily rows. A day with no hours
   * left gets no rows, and reads as empty.
   */
  private async refreshDays(): Promise<void> {
    const work = pairsOf(this.days);
    this.days.clear();
    this.lastDays = this.now();
    try {
      const db = this.store.database;
      const gen = this.nextGen();
      const filter = periodFilter(work.sites, work.periods, "toStartOfDay");
      const current = currentHours(db, filter.sql("period"));
      for (const { hourly, daily, measures } of DAILY_TABLES) {
        await this.store.command(
          `INSERT INTO ${db}.${daily} (site, day, gen, dimension, value, ${measures.map(([name]) => name).join(", ")})
           SELECT site, toStartOfDay(hour) AS day, toUInt64(${gen}), dimension, value, ${measures.map(([name, agg]) => `${agg}(${name})`).join(", ")}
           FROM ${db}.${hourly} WHERE ${filter.sql("hour")} AND (site, hour, gen) IN (${current})
           GROUP BY site, day, dimension, value${this.settings}`,
          filter.params,
        );
      }
      await this.record("day", filter, gen);
      await this.deleteOlder("day", filter, gen);
    } catch (e) {
      add(this.days, work.sites, work.periods);
      throw e;
    }
  }

  /** Touches every hour that holds events or sessions: after the rollup tables were made again (see migrate.ts). Returns how many. */
  async touchAll(): Promise<number> {
    const db = this.store.database;
    const rows = await this.store.query<{ site: string; hour: string }>(
      `SELECT DISTINCT site, formatDateTime(toStartOfHour(ts), '%Y-%m-%d %H:00:00') AS hour FROM ${db}.events
       UNION DISTINCT SELECT DISTINCT site, formatDateTime(toStartOfHour(start), '%Y-%m-%d %H:00:00') AS hour FROM ${db}.sessions`,
      {},
    );
    this.touch(rows.map((r) => [r.site, r.hour] as const));
    return rows.length;
  }

  /**
   * Deletes the generations older than the newest of each hour recomputed since the last call. One
   * statement per table needs one bound for all those hours: the oldest of their newest generations.
   * Hours recomputed since then keep some older generations until a later call.
   */
  private async collect(): Promise<void> {
    this.lastCollect = this.now();
    const db = this.store.database;
    // Hours recomputed in a database that is no longer the active one (a rebuild swapped it) are left as they are.
    for (const [key, e] of this.superseded) if (e.db !== db) this.superseded.delete(key);
    if (this.superseded.size === 0) return;
    const entries = [...this.superseded.values()];
    const below = Math.min(...entries.map((e) => e.gen));
    const inHours = periodFilter(
      entries.map((e) => e.site),
      entries.map((e) => e.hour),
      "toStartOfHour",
    );
    await this.deleteOlder("hour", inHours, below);
    for (const [key, e] of this.superseded) if (e.gen === below) this.superseded.delete(key);
  }

  /** Records `gen` as the current generation of the filter's periods: readers take their rows from here on, in every table at once. */
  private async record(grain: Grain, filter: PeriodFilter, gen: number): Promise<void> {
    await this.store.command(`INSERT INTO ${this.store.database}.rollup_generations (site, grain, period, gen) SELECT site, '${grain}', period, toUInt64(${gen}) FROM (${filter.rows})`, filter.params);
  }

  /**
   * Deletes the rows of the filter's periods older than generation `below`, and their records. Readers take the
   * generation recorded last, so older ones are only space: batched, the delete may finish in the background
   * instead of holding up the next refresh for seconds.
   */
  private async deleteOlder(grain: Grain, filter: PeriodFilter, below: number): Promise<void> {
    const db = this.store.database;
    const settings = this.collectEveryMs > 0 ? " SETTINGS lightweight_deletes_sync = 0" : "";
    const tables = grain === "hour" ? HOURLY_TABLES : DAILY_TABLES.map((t) => t.daily);
    for (const table of tables) await this.store.command(`DELETE FROM ${db}.${table} WHERE ${filter.sql(grain)} AND gen < toUInt64(${below})${settings}`, filter.params);
    await this.store.command(`DELETE FROM ${db}.rollup_generations WHERE grain = '${grain}' AND ${filter.sql("period")} AND gen < toUInt64(${below})${settings}`, filter.params);
  }

  /**
   * Generations follow the clock (µs), so that of two refreshers of one table (the live writer's and a
   * rebuild's), the later refresh of an hour supersedes the earlier one.
   */
  private nextGen(): number {
    this.gen = Math.max(this.gen + 1, Date.now() * 1000);
    return this.gen;
  }

  /**
   * `sites` and `hours` pair up by position: (sites[i], hours[i]) is one touched hour. Returns the generation written.
   * Hours are written into the SQL rather than bound where they fit (see periodFilter).
   */
  private async recompute(sites: readonly string[], hours: readonly string[]): Promise<number> {
    const db = this.store.database;
    const number = this.nextGen();
    const gen = `toUInt64(${number})`;
    const filter = periodFilter(sites, hours, "toStartOfHour");
    const inHours = filter.sql;
    const params = filter.params;
    const siteIn = `site IN ${siteList(sites)}`;
    // Numbers for the visitors of these hours that have none: one writer per projection version (the store
    // writer, or a rebuild for its new version) refreshes at a time, so numbers are never given twice. In the
    // order visitors were first seen: an hour's visitors then have nearby numbers, and its bitmap stays dense.
    await this.store.command(
      `INSERT INTO ${db}.visitor_numbers (site, visitor_key, num)
       WITH f AS (SELECT site, k, min(at) AS first
                  FROM (SELECT site, sipHash64(visitor_id) AS k, ts AS at FROM ${db}.events WHERE ${inHours("ts")}
                        UNION ALL
                        SELECT site, sipHash64(visitor_id) AS k, start AS at FROM ${db}.sessions WHERE ${inHours("start")})
                  GROUP BY site, k)
       SELECT f.site, f.k, toUInt32(t.top + row_number() OVER (PARTITION BY f.site ORDER BY f.first, f.k))
       FROM f
       LEFT JOIN (SELECT site AS t_site, max(num) AS top FROM ${db}.visitor_numbers WHERE ${siteIn} GROUP BY site) AS t ON f.site = t.t_site
       -- Only these hours' keys are looked up, through the primary key, not every key of the site.
       WHERE (f.site, f.k) NOT IN (SELECT site, visitor_key FROM ${db}.visitor_numbers WHERE ${siteIn} AND visitor_key IN (SELECT k FROM f))`,
      params,
    );
    // The deduplicated rows of the touched hours, bots left out, each with its visitor's number.
    const source = (table: "events" | "sessions", col: string): string =>
      `(SELECT * EXCEPT (n_site, n_key) FROM (SELECT *, sipHash64(visitor_id) AS vk FROM ${db}.${table} FINAL WHERE is_bot = 0 AND ${inHours(col)}) AS src
         LEFT JOIN (SELECT site AS n_site, visitor_key AS n_key, num FROM ${db}.visitor_numbers
                    WHERE ${siteIn} AND visitor_key IN (SELECT sipHash64(visitor_id) FROM ${db}.${table} WHERE ${inHours(col)})) AS n
         ON src.site = n.n_site AND src.vk = n.n_key)`;
    await this.store.command(
      `INSERT INTO ${db}.rollup_events_hourly (site, hour, gen, path, source, channel, country, device, hostname, name, medium, browser, os, pageviews, events, visitor_bits)
       SELECT site, toStartOfHour(ts) AS hour, ${gen} AS gen, path, source, channel, country, device, hostname, name, medium, browser, os,
              countIf(name = 'pageview') AS pageviews, count() AS events, ${VISITOR_BITS} AS visitor_bits
       FROM ${source("events", "ts")}
       GROUP BY site, hour, path, source, channel, country, device, hostname, name, medium, browser, os${this.settings}`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_sessions_hourly (site, hour, gen, landing_path, source, channel, country, device, medium, browser, os, campaign,
              sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_bits)
       SELECT site, toStartOfHour(start) AS hour, ${gen} AS gen, path(landing_page) AS landing_path, source, channel, country, device, medium, browser, os, campaign,
              count() AS sessions, countIf(engaged = 1) AS engaged_sessions, sum(pageviews) AS pageviews, sum(duration_ms) AS duration_ms,
              countIf(key_events > 0) AS key_sessions, ${VISITOR_BITS} AS visitor_bits
       FROM ${source("sessions", "start")}
       GROUP BY site, hour, landing_path, source, channel, country, device, medium, browser, os, campaign${this.settings}`,
      params,
    );
    // The per-site and per-dimension rows are sums and bitmap unions of the rows just made by combination of
    // dimensions (which hold every dimension below): merging those is exact and cheaper than reading the
    // deduplicated events and sessions and their visitor numbers again.
    const made = (table: string): string => `(SELECT * FROM ${db}.${table} WHERE gen = ${number} AND ${inHours("hour")})`;
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_events_hourly (site, hour, gen, pageviews, events, visitor_bits)
       SELECT site, hour, ${gen} AS gen, sum(pageviews), sum(events), groupBitmapMergeState(visitor_bits)
       FROM ${made("rollup_events_hourly")}
       GROUP BY site, hour${this.settings}`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_sessions_hourly (site, hour, gen, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_bits)
       SELECT site, hour, ${gen} AS gen, sum(sessions), sum(engaged_sessions), sum(pageviews), sum(duration_ms), sum(key_sessions), groupBitmapMergeState(visitor_bits)
       FROM ${made("rollup_sessions_hourly")}
       GROUP BY site, hour${this.settings}`,
      params,
    );
    // The names are the report dimensions' (src/query/report/fields.ts), whose values these columns hold.
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_events_hourly (site, hour, gen, dimension, value, pageviews, events, visitor_bits)
       SELECT site, hour, ${gen} AS gen, kv.1 AS dimension, kv.2 AS value, sum(pageviews), sum(events), groupBitmapMergeState(visitor_bits)
       FROM ${made("rollup_events_hourly")}
       ARRAY JOIN [('pagePath', path), ('hostName', toString(hostname)), ('eventName', toString(name)), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       GROUP BY site, hour, dimension, value${this.settings}`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_sessions_hourly (site, hour, gen, dimension, value, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_bits)
       SELECT site, hour, ${gen} AS gen, kv.1 AS dimension, kv.2 AS value,
              sum(sessions), sum(engaged_sessions), sum(pageviews), sum(duration_ms), sum(key_sessions), groupBitmapMergeState(visitor_bits)
       FROM ${made("rollup_sessions_hourly")}
       ARRAY JOIN [('landingPage', landing_path), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)), ('sessionCampaignName', campaign),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       GROUP BY site, hour, dimension, value${this.settings}`,
      params,
    );
    await this.record("hour", filter, number);
    return number;
  }
}

const HOURLY_TABLES = ["rollup_events_hourly", "rollup_sessions_hourly", "rollup_site_events_hourly", "rollup_site_sessions_hourly", "rollup_dimension_events_hourly", "rollup_dimension_sessions_hourly"];

/** The daily tables, each made from an hourly table by one dimension. */
const DAILY_TABLES = (["events", "sessions"] as const).map((side) => ({
  hourly: `rollup_dimension_${side}_hourly`,
  daily: `rollup_dimension_${side}_daily`,
  // Counts add up; visitor bitmaps are merged into one.
  measures: ROLLUP_MEASURES[side].map((name) => [name, name === "visitor_bits" ? "groupBitmapMergeState" : "sum"] as const),
}));

/** (site, period) pairs as two arrays that pair up by position. */
const pairsOf = (map: ReadonlyMap<string, ReadonlySet<string>>): { readonly sites: string[]; readonly periods: string[] } => {
  const sites: string[] = [];
  const periods: string[] = [];
  for (const [site, set] of map) {
    for (const p of set) {
      sites.push(site);
      periods.push(p);
    }
  }
  return { sites, periods };
};

const addPeriod = (map: Map<string, Set<string>>, site: string, period: string): void => {
  map.set(site, (map.get(site) ?? new Set()).add(period));
};

const add = (map: Map<string, Set<string>>, sites: readonly string[], periods: readonly string[]): void => {
  sites.forEach((site, i) => addPeriod(map, site, periods[i] as string));
};

type Grain = "hour" | "day";

interface PeriodFilter {
  /** A condition on a time column (the period column itself, or one it starts). */
  readonly sql: (col: string) => string;
  /** The pairs as rows (site, period). */
  readonly rows: string;
  readonly params: QueryParams;
}

/**
 * A filter on a time column for the (sites[i], periods[i]) pairs, a period being the start of an hour or a day
 * as `start` computes it from the column. The pairs are written into the SQL
 * when they fit: chDB runs statements with bound parameters one at a time across all its connections, so
 * the live writer's refresh, with bound parameters, would hold up the reports. Many pairs (a rebuild's
 * refresh of every hour) are bound instead.
 */
const periodFilter = (
  sites: readonly string[],
  periods: readonly string[],
  start: "toStartOfHour" | "toStartOfDay",
): PeriodFilter => {
  const list = siteList(sites);
  const pairs = sites.map((site, i) => `(${quote(site)}, toDateTime(${quote(periods[i] as string)}, 'UTC'))`).join(", ");
  const literal = list.length + pairs.length <= MAX_LITERAL_BYTES;
  const siteIn = literal ? list : "{sites:Array(String)}";
  const array = literal ? `[${pairs}]` : `arrayZip({sites:Array(String)}, arrayMap(h -> toDateTime(h, 'UTC'), {periods:Array(String)}))`;
  return {
    // The site list first lets the primary key (site, ...) skip other sites' parts before the pairs are matched.
    sql: (col) => `site IN ${siteIn} AND (site, ${start}(${col})) IN (SELECT arrayJoin(${array}))`,
    rows: `SELECT p.1 AS site, p.2 AS period FROM (SELECT arrayJoin(${array}) AS p)`,
    params: literal ? {} : { sites, periods },
  };
};

/** The current generation of the hours a filter on `period` keeps, as (site, hour, gen). */
const currentHours = (db: string, periodIn: string): string => `SELECT site, period, max(gen) FROM ${db}.rollup_generations WHERE grain = 'hour' AND ${periodIn} GROUP BY site, period`;
