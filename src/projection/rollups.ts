import type { AnalyticsStore } from "../../infra/clickhouse/store.js";

/**
 * A row's distinct visitors: the set of their 64-bit keys. Reports count them with
 * uniqExactArray, exact unless two visitor ids of a site share a key (odds about n²/2^65: 3e-8
 * for a million visitors).
 */
const VISITOR_KEYS = "groupUniqArray(sipHash64(visitor_id))";

/**
 * Keeps the hourly rollups exact: every hour that a flush wrote events or sessions into is
 * recomputed from the deduplicated tables as a new generation, at most once per interval.
 * Readers take the newest generation of each hour (see rollupQuery). Older generations are
 * deleted as they are superseded.
 */
export class RollupRefresher {
  private readonly touched = new Map<string, Set<string>>();
  /** Sites whose hours a refresh under way is recomputing. */
  private readonly refreshing = new Map<string, number>();
  private gen = 0;

  constructor(private readonly store: AnalyticsStore) {}

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
      await this.recompute(sites, hours);
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

  /** `sites` and `hours` pair up by position: (sites[i], hours[i]) is one touched hour. */
  private async recompute(sites: readonly string[], hours: readonly string[]): Promise<void> {
    const db = this.store.database;
    // Generations follow the clock (µs), so that of two refreshers of one table (the live writer's and a
    // rebuild's), the later refresh of an hour supersedes the earlier one.
    this.gen = Math.max(this.gen + 1, Date.now() * 1000);
    const params = { sites, hours, gen: String(this.gen) };
    // The site list first lets the primary key (site, ...) skip other sites' parts before the pairs are matched.
    const inHours = (col: string): string =>
      `site IN {sites:Array(String)} AND (site, toStartOfHour(${col})) IN (SELECT arrayJoin(arrayZip({sites:Array(String)}, arrayMap(h -> toDateTime(h, 'UTC'), {hours:Array(String)}))))`;
    await this.store.command(
      `INSERT INTO ${db}.rollup_events_hourly (site, hour, gen, path, source, channel, country, device, hostname, name, medium, browser, os, pageviews, events, visitor_keys)
       SELECT site, toStartOfHour(ts) AS hour, toUInt64({gen:String}) AS gen, path, source, channel, country, device, hostname, name, medium, browser, os,
              countIf(name = 'pageview') AS pageviews, count() AS events, ${VISITOR_KEYS} AS visitor_keys
       FROM ${db}.events FINAL WHERE is_bot = 0 AND ${inHours("ts")}
       GROUP BY site, hour, path, source, channel, country, device, hostname, name, medium, browser, os`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_sessions_hourly (site, hour, gen, landing_path, source, channel, country, device, medium, browser, os, campaign,
              sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_keys)
       SELECT site, toStartOfHour(start) AS hour, toUInt64({gen:String}) AS gen, path(landing_page) AS landing_path, source, channel, country, device, medium, browser, os, campaign,
              count() AS sessions, countIf(engaged = 1) AS engaged_sessions, sum(pageviews) AS pageviews, sum(duration_ms) AS duration_ms,
              countIf(key_events > 0) AS key_sessions, ${VISITOR_KEYS} AS visitor_keys
       FROM ${db}.sessions FINAL WHERE is_bot = 0 AND ${inHours("start")}
       GROUP BY site, hour, landing_path, source, channel, country, device, medium, browser, os, campaign`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_events_hourly (site, hour, gen, pageviews, events, visitor_keys)
       SELECT site, toStartOfHour(ts) AS hour, toUInt64({gen:String}) AS gen, countIf(name = 'pageview'), count(), ${VISITOR_KEYS}
       FROM ${db}.events FINAL WHERE is_bot = 0 AND ${inHours("ts")}
       GROUP BY site, hour`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_site_sessions_hourly (site, hour, gen, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_keys)
       SELECT site, toStartOfHour(start) AS hour, toUInt64({gen:String}) AS gen, count(), countIf(engaged = 1), sum(pageviews), sum(duration_ms), countIf(key_events > 0), ${VISITOR_KEYS}
       FROM ${db}.sessions FINAL WHERE is_bot = 0 AND ${inHours("start")}
       GROUP BY site, hour`,
      params,
    );
    // The names are the report dimensions' (src/query/report/fields.ts), whose values these columns hold.
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_events_hourly (site, hour, gen, dimension, value, pageviews, events, visitor_keys)
       SELECT site, toStartOfHour(ts) AS hour, toUInt64({gen:String}) AS gen, kv.1 AS dimension, kv.2 AS value, countIf(name = 'pageview'), count(), ${VISITOR_KEYS}
       FROM ${db}.events FINAL
       ARRAY JOIN [('pagePath', path), ('hostName', toString(hostname)), ('eventName', toString(name)), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       WHERE is_bot = 0 AND ${inHours("ts")}
       GROUP BY site, hour, dimension, value`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_dimension_sessions_hourly (site, hour, gen, dimension, value, sessions, engaged_sessions, pageviews, duration_ms, key_sessions, visitor_keys)
       SELECT site, toStartOfHour(start) AS hour, toUInt64({gen:String}) AS gen, kv.1 AS dimension, kv.2 AS value,
              count(), countIf(engaged = 1), sum(pageviews), sum(duration_ms), countIf(key_events > 0), ${VISITOR_KEYS}
       FROM ${db}.sessions FINAL
       ARRAY JOIN [('landingPage', path(landing_page)), ('sessionSource', toString(source)), ('sessionMedium', toString(medium)), ('sessionCampaignName', campaign),
                   ('sessionDefaultChannelGroup', toString(channel)), ('country', toString(country)), ('deviceCategory', toString(device)), ('browser', toString(browser)), ('operatingSystem', toString(os))] AS kv
       WHERE is_bot = 0 AND ${inHours("start")}
       GROUP BY site, hour, dimension, value`,
      params,
    );
    // Older generations go: this also empties an hour that has no rows left (a session whose start moved away).
    for (const table of ["rollup_events_hourly", "rollup_sessions_hourly", "rollup_site_events_hourly", "rollup_site_sessions_hourly", "rollup_dimension_events_hourly", "rollup_dimension_sessions_hourly"]) {
      await this.store.command(`DELETE FROM ${db}.${table} WHERE ${inHours("hour")} AND gen < toUInt64({gen:String})`, params);
    }
  }
}
