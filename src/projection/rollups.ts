import type { AnalyticsStore } from "../../infra/clickhouse/store.js";

/**
 * Keeps the hourly rollups exact: every hour that a flush wrote events or sessions into is
 * recomputed from the deduplicated tables as a new generation, at most once per interval.
 * Readers take the newest generation of each hour (see rollupQuery). Older generations are
 * deleted as they are superseded.
 */
export class RollupRefresher {
  private readonly touched = new Map<string, Set<string>>();
  private gen = Date.now() * 1000;

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

  /**
   * Recomputes every touched hour of every site in one statement per table: a statement per
   * site cost chDB about as much per site as for all of them, so that refreshes with many
   * sites fell behind. On failure the hours are touched again, and the next call retries.
   */
  async refresh(): Promise<void> {
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
    if (sites.length === 0) return;
    try {
      await this.recompute(sites, hours);
    } catch (e) {
      for (const [site, hourSet] of work) for (const h of hourSet) this.touched.set(site, (this.touched.get(site) ?? new Set()).add(h));
      throw e;
    }
  }

  /** `sites` and `hours` pair up by position: (sites[i], hours[i]) is one touched hour. */
  private async recompute(sites: readonly string[], hours: readonly string[]): Promise<void> {
    const db = this.store.database;
    const params = { sites, hours, gen: String(++this.gen) };
    // The site list first lets the primary key (site, ...) skip other sites' parts before the pairs are matched.
    const inHours = (col: string): string =>
      `site IN {sites:Array(String)} AND (site, toStartOfHour(${col})) IN (SELECT arrayJoin(arrayZip({sites:Array(String)}, arrayMap(h -> toDateTime(h, 'UTC'), {hours:Array(String)}))))`;
    await this.store.command(
      `INSERT INTO ${db}.rollup_events_hourly
       SELECT site, toStartOfHour(ts) AS hour, toUInt64({gen:String}) AS gen, path, source, channel, country, device,
              countIf(name = 'pageview') AS pageviews, count() AS events, uniqExactState(visitor_id) AS visitors
       FROM ${db}.events FINAL WHERE is_bot = 0 AND ${inHours("ts")}
       GROUP BY site, hour, path, source, channel, country, device`,
      params,
    );
    await this.store.command(
      `INSERT INTO ${db}.rollup_sessions_hourly
       SELECT site, toStartOfHour(start) AS hour, toUInt64({gen:String}) AS gen, path(landing_page) AS landing_path, source, channel, country, device,
              count() AS sessions, countIf(engaged = 1) AS engaged_sessions, sum(pageviews) AS pageviews, sum(duration_ms) AS duration_ms,
              uniqExactState(visitor_id) AS visitors
       FROM ${db}.sessions FINAL WHERE is_bot = 0 AND ${inHours("start")}
       GROUP BY site, hour, landing_path, source, channel, country, device`,
      params,
    );
    // Older generations go: this also empties an hour that has no rows left (a session whose start moved away).
    for (const table of ["rollup_events_hourly", "rollup_sessions_hourly"]) {
      await this.store.command(`DELETE FROM ${db}.${table} WHERE ${inHours("hour")} AND gen < toUInt64({gen:String})`, params);
    }
  }
}
