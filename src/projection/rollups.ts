import type { AnalyticsStore } from "../../infra/clickhouse/store.js";

/** A (site, hour) whose rollup rows must be recomputed. */
const hourOf = (chTime: unknown): string => `${String(chTime).slice(0, 13)}:00:00`;

/**
 * Keeps the hourly rollups exact: every hour that a flush wrote events or sessions into is
 * recomputed from the deduplicated tables as a new generation, at most once per interval.
 * Readers take the newest generation of each hour (see rollupQuery). Older generations are
 * deleted as they are superseded.
 */
export class RollupRefresher {
  private readonly touched = new Map<string, Set<string>>();
  private gen = 0;

  constructor(private readonly store: AnalyticsStore) {}

  /** Notes the hours that projection rows fall in (events by time, sessions by start). */
  touch(events: readonly Record<string, unknown>[], sessions: readonly Record<string, unknown>[]): void {
    const add = (site: unknown, t: unknown): void => {
      const key = String(site);
      const hours = this.touched.get(key) ?? new Set<string>();
      hours.add(hourOf(t));
      this.touched.set(key, hours);
    };
    for (const e of events) add(e["site"], e["ts"]);
    for (const s of sessions) if (s["start"] !== undefined) add(s["site"], s["start"]);
  }

  get pending(): number {
    return this.touched.size;
  }

  /** Recomputes every touched hour. On failure the hours are touched again, and the next call retries. */
  async refresh(): Promise<void> {
    const work = [...this.touched];
    this.touched.clear();
    try {
      for (const [site, hourSet] of work) {
        await this.refreshSite(site, [...hourSet]);
        hourSet.clear();
      }
    } catch (e) {
      for (const [site, hourSet] of work) for (const h of hourSet) this.touched.set(site, (this.touched.get(site) ?? new Set()).add(h));
      throw e;
    }
  }

  private async refreshSite(site: string, hours: readonly string[]): Promise<void> {
    const db = this.store.database;
    // Generations follow the clock (µs), so that of two refreshers of one table (the live writer's and a
    // rebuild's), the later refresh of an hour supersedes the earlier one.
    this.gen = Math.max(this.gen + 1, Date.now() * 1000);
    const params = { site, hours, gen: String(this.gen) };
    const inHours = (col: string): string =>
      `site = {site:String} AND toStartOfHour(${col}) IN (SELECT arrayJoin(arrayMap(h -> toDateTime(h, 'UTC'), {hours:Array(String)})))`;
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
