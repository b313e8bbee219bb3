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
 * Readers take the newest generation of each hour (see rollupQuery). Older generations are
 * deleted once superseded, right away or in batches (see RefresherOptions).
 */
export class RollupRefresher {
  private readonly touched = new Map<string, Set<string>>();
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
    this.settings = options.maxThreads ? `\n       SETTINGS max_threads = ${options.maxThreads}` : "";
    this.now = options.now ?? Date.now;
    this.lastCollect = this.now();
  }

  /** Notes the hours that projection rows fall in, as (site, `YYYY-MM-DD HH:00:00`) pairs (see RowsMessage). */
  touch(hours: Iterable<readonly [string, string]>): void {
    for (const [site, hour] of hours) {
      const set = this.touched.get(site) ?? new Set<string>();
      set.add(hour);
      this.touched.set(site, set);
    }
  }

  get pending(): number {
    return this.touched.size;
  }

  /** Whether the site has rows inserted that its rollups do not reflect yet. */
  behind(site: string): boolean {
    return this.touched.has(site) || this.refreshing.has(site);
  }

  /**
   * Recomputes every touched hour of every site in one statement per table: a statement per
   * site cost chDB about as much per site as for all of them, so that refreshes with many
   * sites fell behind. On failure the hours are touched again, and the next call retries.
   * Returns the sites whose rollups changed.
   */
  async refresh(): Promise<ReadonlySet<string>> {
    const work = [...this.touched];
    this.touched.clear();
    const sites: string[] = [];
    const hours: string[] = [];
    for (const [site, hourSet] of work) {
      for (const h of hourSet) {
        sites.push(site);
        hours.push(h);
      }
    }
    if (sites.length === 0) return new Set();
    for (const [site] of work) this.refreshing.set(site, (this.refreshing.get(site) ?? 0) + 1);
    try {
      const db = this.store.database;
      const gen = await this.recompute(sites, hours);
      if (this.collectEveryMs > 0) await this.emptyHours(sites, hours, gen);
      sites.forEach((site, i) => this.superseded.set(`${site}\u001f${hours[i] as string}`, { db, site, hour: hours[i] as string, gen }));
      if (this.now() - this.lastCollect >= this.collectEveryMs) await this.collect();
    } catch (e) {
      for (const [site, hourSet] of work) for (const h of hourSet) this.touched.set(site, (this.touched.get(site) ?? new Set()).add(h));
      throw e;
    } finally {
      for (const [site] of work) {
        const n = (this.refreshing.get(site) ?? 1) - 1;
        if (n > 0) this.refreshing.set(site, n);
        else this.refreshing.delete(site);
      }
    }
    return new Set(sites);
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
   * An hour that has no rows left gets no rows in a new generation, so its older generation would still be read
   * as the newest: such hours lose their older generations at once. Only sessions leave an hour (when a late
   * event moves a session's start); events stay in theirs.
   */
  private async emptyHours(sites: readonly string[], hours: readonly string[], gen: number): Promise<void> {
    const db = this.store.database;
    for (const table of SESSION_ROLLUP_TABLES) {
      const kept = await this.store.query<{ site: string; hour: string }>(
        `SELECT DISTINCT site, toString(hour) AS hour FROM ${db}.${table} WHERE site IN ${siteList(sites)} AND gen = ${gen}`,
        {},
      );
      const present = new Set(kept.map((k) => `${k.site}\u001f${k.hour}`));
      const empty = sites.flatMap((site, i) => (present.has(`${site}\u001f${hours[i] as string}`) ? [] : [i]));
      if (empty.length === 0) continue;
      const inHours = hourFilter(
        empty.map((i) => sites[i] as string),
        empty.map((i) => hours[i] as string),
      );
      await this.store.command(`DELETE FROM ${db}.${table} WHERE ${inHours.sql("hour")} AND gen < toUInt64(${gen})`, inHours.params);
    }
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
    const inHours = hourFilter(
      entries.map((e) => e.site),
      entries.map((e) => e.hour),
    );
    // Older generations go: this also empties an hour that has no rows left (a session whose start moved away).
    // Batched, that is done already (see emptyHours), so the delete may finish in the background instead of
    // holding up the next refresh for seconds.
    const settings = this.collectEveryMs > 0 ? " SETTINGS lightweight_deletes_sync = 0" : "";
    for (const table of ROLLUP_TABLES) await this.store.command(`DELETE FROM ${db}.${table} WHERE ${inHours.sql("hour")} AND gen < toUInt64(${below})${settings}`, inHours.params);
    for (const [key, e] of this.superseded) if (e.gen === below) this.superseded.delete(key);
  }

  /**
   * `sites` and `hours` pair up by position: (sites[i], hours[i]) is one touched hour. Returns the generation written.
   * Hours are written into the SQL rather than bound where they fit (see hourFilter).
   */
  private async recompute(sites: readonly string[], hours: readonly string[]): Promise<number> {
    const db = this.store.database;
    // Generations follow the clock (µs), so that of two refreshers of one table (the live writer's and a
    // rebuild's), the later refresh of an hour supersedes the earlier one.
    this.gen = Math.max(this.gen + 1, Date.now() * 1000);
    const gen = `toUInt64(${this.gen})`;
    const filter = hourFilter(sites, hours);
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
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_events_hourly (site, hour, gen, pageviews, events, visitor_bits)
       SELECT site, toStartOfHour(ts) AS hour, ${gen} AS gen, countIf(name = 'pageview'), count(), ${VISITOR_BITS}
       FROM ${source("events", "ts")}
       GROUP BY site, hour${this.settings}`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_sessions_hourly (site, hour, gen, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_bits)
       SELECT site, toStartOfHour(start) AS hour, ${gen} AS gen, count(), countIf(engaged = 1), sum(pageviews), sum(duration_ms), countIf(key_events > 0), ${VISITOR_BITS}
       FROM ${source("sessions", "start")}
       GROUP BY site, hour${this.settings}`,
      params,
    );
    // The names are the report dimensions' (src/query/report/fields.ts), whose values these columns hold.
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_events_hourly (site, hour, gen, dimension, value, pageviews, events, visitor_bits)
       SELECT site, toStartOfHour(ts) AS hour, ${gen} AS gen, kv.1 AS dimension, kv.2 AS value, countIf(name = 'pageview'), count(), ${VISITOR_BITS}
       FROM ${source("events", "ts")}
       ARRAY JOIN [('pagePath', path), ('hostName', toString(hostname)), ('eventName', toString(name)), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       GROUP BY site, hour, dimension, value${this.settings}`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_sessions_hourly (site, hour, gen, dimension, value, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_bits)
       SELECT site, toStartOfHour(start) AS hour, ${gen} AS gen, kv.1 AS dimension, kv.2 AS value,
              count(), countIf(engaged = 1), sum(pageviews), sum(duration_ms), countIf(key_events > 0), ${VISITOR_BITS}
       FROM ${source("sessions", "start")}
       ARRAY JOIN [('landingPage', path(landing_page)), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)), ('sessionCampaignName', campaign),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       GROUP BY site, hour, dimension, value${this.settings}`,
      params,
    );
    return this.gen;
  }
}

const SESSION_ROLLUP_TABLES = ["rollup_sessions_hourly", "rollup_site_sessions_hourly", "rollup_dimension_sessions_hourly"];
const ROLLUP_TABLES = ["rollup_events_hourly", "rollup_sessions_hourly", "rollup_site_events_hourly", "rollup_site_sessions_hourly", "rollup_dimension_events_hourly", "rollup_dimension_sessions_hourly"];

/**
 * A filter on a time column for the touched (sites[i], hours[i]) pairs. The pairs are written into the SQL
 * when they fit: chDB runs statements with bound parameters one at a time across all its connections, so
 * the live writer's refresh, with bound parameters, would hold up the reports. Many pairs (a rebuild's
 * refresh of every hour) are bound instead.
 */
const hourFilter = (sites: readonly string[], hours: readonly string[]): { readonly sql: (col: string) => string; readonly params: QueryParams } => {
  const list = siteList(sites);
  const pairs = sites.map((site, i) => `(${quote(site)}, toDateTime(${quote(hours[i] as string)}, 'UTC'))`).join(", ");
  // The site list first lets the primary key (site, ...) skip other sites' parts before the pairs are matched.
  if (list.length + pairs.length <= MAX_LITERAL_BYTES) return { sql: (col) => `site IN ${list} AND (site, toStartOfHour(${col})) IN (SELECT arrayJoin([${pairs}]))`, params: {} };
  return {
    sql: (col) =>
      `site IN {sites:Array(String)} AND (site, toStartOfHour(${col})) IN (SELECT arrayJoin(arrayZip({sites:Array(String)}, arrayMap(h -> toDateTime(h, 'UTC'), {hours:Array(String)}))))`,
    params: { sites, hours },
  };
};
