import { openAnalyticsStore } from "../../infra/clickhouse/store.js";

/**
 * Run as its own process after Pulse has stopped (chDB lets one process own a data folder):
 * counts the acknowledged event ids that the events table of Pulse's chDB does not hold.
 * argv: chdbPath database ackedFile idPrefix. Prints one JSON line.
 */
const [chdbPath, database, ackedFile, prefix] = process.argv.slice(2);
if (!chdbPath || !database || !ackedFile || !prefix) {
  console.error("usage: chdb-check <chdbPath> <database> <ackedFile> <idPrefix>");
  process.exit(2);
}
if (!/^[a-z][a-z0-9_]*$/.test(database)) throw new Error(`bad database name ${database}`);

const main = async (): Promise<void> => {
  const store = await openAnalyticsStore({ url: undefined, chdbPath, database });
  const started = Date.now();
  const ids = `SELECT toUInt64OrZero(substring(event_id, {skip:UInt32})) FROM ${database}.events WHERE startsWith(event_id, {prefix:String})`;
  const [missing] = await store.query<{ missing: string; examples: string[] }>(
    `SELECT count() AS missing, groupArray(10)(n) AS examples
     FROM (SELECT arrayJoin(range(lo, hi)) AS n FROM file({file:String}, 'CSV', 'lo UInt64, hi UInt64'))
     WHERE n NOT IN (${ids})`,
    { file: ackedFile, prefix, skip: prefix.length + 1 },
  );
  const [stored] = await store.query<{ rows: string; ids: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${database}.events FINAL WHERE startsWith(event_id, {prefix:String})`,
    { prefix },
  );
  // Pageviews per site as the reports count them (FINAL) and as distinct ids of any version, to
  // tell a gap in the store from one in how reports read it.
  const perSite = await store.query<{ site: string; final: string; ids: string }>(
    `SELECT site, sum(final) AS final, sum(ids) AS ids FROM (
       SELECT site, countIf(name = 'pageview') AS final, 0 AS ids FROM ${database}.events FINAL WHERE startsWith(event_id, {prefix:String}) GROUP BY site
       UNION ALL
       SELECT site, 0 AS final, uniqExactIf(event_id, name = 'pageview') AS ids FROM ${database}.events WHERE startsWith(event_id, {prefix:String}) GROUP BY site)
     GROUP BY site ORDER BY site`,
    { prefix },
  );
  await store.close();
  console.log(
    JSON.stringify({
      missing: Number(missing?.missing ?? -1),
      examples: (missing?.examples ?? []).map((n) => `${prefix}${String(n)}`),
      storedRows: Number(stored?.rows ?? -1),
      storedIds: Number(stored?.ids ?? -1),
      pageviewsBySite: Object.fromEntries(perSite.map((r) => [r.site, { final: Number(r.final), ids: Number(r.ids) }])),
      ms: Date.now() - started,
    }),
  );
};
main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
