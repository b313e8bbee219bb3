import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { RollupRefresher } from "../../src/projection/rollups.js";

/**
 * A synthetic month of traffic written straight into chDB: sessions first (three sites, 70% of
 * the traffic on one), then their events, with skewed distributions (a few pages, countries and
 * sources take most of the traffic; one client type per visitor; visitors return), then the
 * hourly rollups of every hour, computed by the same refresher the store writer runs.
 */

// Sessions hold 3.19 events on average (1 + the smaller of two draws from 0..7); a few more sessions than that ratio, so the events reach the target.
const SESSIONS_PER_EVENT = 1 / 3.1;

// Zipf-like pick from a list: u^2.5 crowds the index towards the front.
const skewed = (list: readonly string[], hash: string): string => `[${list.map((x) => `'${x}'`).join(", ")}][1 + toUInt32(floor(${list.length} * pow((${hash} % 1000000) / 1000000, 2.5)))]`;

const PATHS = Array.from({ length: 60 }, (_, i) => (i === 0 ? "/" : i < 10 ? `/docs/page-${i}` : i < 20 ? `/blog/post-${i}` : `/p/${i}`));
const COUNTRIES = ["US", "DE", "GB", "FR", "IN", "NL", "BR", "CA", "ES", "IT", "PL", "JP", "AU", "SE", "CH", "AT", "MX", "BE", "DK", "NO"];

export const SITES = [
  { id: "big", share: 7, timezone: "Europe/Berlin" },
  { id: "mid", share: 2, timezone: "America/New_York" },
  { id: "small", share: 1, timezone: "UTC" },
] as const;

export const loadMonth = async (store: AnalyticsStore, events: number, now: number, say: (line: string) => void): Promise<void> => {
  const db = store.database;
  const sessions = Math.ceil(events * SESSIONS_PER_EVENT);
  const visitors = Math.ceil(sessions / 2.5);
  const base = new Date(now - 30 * 86_400_000).toISOString().replace("T", " ").replace("Z", "");
  const t0 = performance.now();
  await store.command(
    `INSERT INTO ${db}.sessions (site, session_id, visitor_id, start, end, pageviews, events, landing_page, exit_page, referrer, source, medium, campaign, channel,
                                 browser, os, device, country, is_bot, duration_ms, key_events, engaged, user_id, version, is_deleted)
     SELECT site, session_id, visitor_id, start, start + toIntervalMillisecond(duration_ms), n - intDiv(n, 4), n, landing, landing, '', source, medium, campaign, channel,
            client.1, client.2, client.3, country, is_bot, duration_ms, key_events, n > 1 OR duration_ms >= 10000 OR key_events > 0, '', 1, 0
     FROM (
       SELECT number AS i,
              multiIf(i % 10 < 7, 'big', i % 10 < 9, 'mid', 'small') AS site,
              concat('s', toString(i)) AS session_id,
              cityHash64(i, 1) % {visitors:UInt64} AS vn,
              concat('v', toString(vn)) AS visitor_id,
              toDateTime64({base:String}, 3, 'UTC') + toIntervalMillisecond(cityHash64(i, 2) % (30 * 86400000)) AS start,
              1 + least(cityHash64(i, 3) % 8, cityHash64(i, 4) % 8) AS n,
              (n - 1) * (cityHash64(i, 7) % 120000) AS duration_ms,
              cityHash64(i, 5) % 100 AS t,
              multiIf(t < 30, ('(direct)', '(none)', '(direct)', 'Direct'), t < 65, ('google', 'organic', '(organic)', 'Organic Search'), t < 75, ('news.example.org', 'referral', '(referral)', 'Referral'),
                      t < 83, ('newsletter', 'email', 'nov_sale', 'Email'), t < 90, ('google', 'cpc', 'brand', 'Paid Search'), ('facebook.com', 'referral', '(referral)', 'Organic Social')) AS attribution,
              attribution.1 AS source, attribution.2 AS medium, attribution.3 AS campaign, attribution.4 AS channel,
              cityHash64(vn, 6) % 100 AS c,
              multiIf(c < 40, ('Chrome', 'Windows', 'desktop'), c < 65, ('Safari', 'iOS', 'mobile'), c < 85, ('Chrome', 'Android', 'mobile'), c < 90, ('Firefox', 'Linux', 'desktop'), ('Safari', 'Macintosh', 'desktop')) AS client,
              ${skewed(COUNTRIES, "cityHash64(vn, 8)")} AS country,
              concat('https://www.', site, '.example', ${skewed(PATHS, "cityHash64(i, 9)")}) AS landing,
              cityHash64(i, 10) % 100 < 2 AS is_bot,
              toUInt32(cityHash64(i, 11) % 100 < 4) AS key_events
       FROM numbers({sessions:UInt64})
     )`,
    { visitors, sessions, base },
  );
  say(`  ${sessions.toLocaleString("en")} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  await store.command(
    `INSERT INTO ${db}.events (site, event_id, visitor_id, session_id, ts, seq, name, url, hostname, path, referrer, props, user_id, source, medium, channel,
                               browser, os, device, country, region, city, is_bot, received_at, version)
     SELECT site, concat(session_id, '-', toString(k)), visitor_id, session_id, ts, k, name, concat('https://', host, p), host, p, '', if(name = 'download', '{"file":"a.pdf"}', '{}'), '',
            source, medium, channel, browser, os, device, country, '', '', is_bot, ts, 1
     FROM (
       SELECT *, k, start + toIntervalMillisecond(intDiv(duration_ms * k, greatest(events - 1, 1))) AS ts,
              cityHash64(session_id, k) % 100 AS h,
              if(k = 0, 'pageview', multiIf(h < 75, 'pageview', h < 85, 'scroll', h < 95, 'download', 'signup')) AS name,
              if(k = 0, path(landing_page), ${skewed(PATHS, "cityHash64(session_id, k, 1)")}) AS p,
              concat('www.', site, '.example') AS host
       FROM ${db}.sessions ARRAY JOIN range(events) AS k
     )`,
    {},
  );
  const [count] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${db}.events`, {});
  say(`  ${Number(count?.n).toLocaleString("en")} events in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const t2 = performance.now();
  const refresher = new RollupRefresher(store);
  // Every hour holding rows, sessions that run past the load's `now` included (a fixed span of hours up to
  // `now` left those out, and the bench then found the rollups a few events short of the raw tables).
  const siteHours = await refresher.touchAll();
  await refresher.refresh();
  const [rolled] = await store.query<{ e: string; s: string }>(`SELECT (SELECT count() FROM ${db}.rollup_events_hourly) AS e, (SELECT count() FROM ${db}.rollup_sessions_hourly) AS s`, {});
  say(`  rollups of ${siteHours} site-hours: ${Number(rolled?.e).toLocaleString("en")} event rows, ${Number(rolled?.s).toLocaleString("en")} session rows, in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
};
