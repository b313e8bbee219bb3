import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateSchema } from "../../infra/clickhouse/migrate.js";
import { openAnalyticsStore } from "../../infra/clickhouse/store.js";
import { RollupRefresher } from "../../src/projection/rollups.js";
import { compileReport, parseReportSpec } from "../../src/query/report.js";
import { queryService, type ReportSite } from "../../src/query/service.js";
import { machineInfo } from "../machine.js";
import { percentileOf } from "../report/stats.js";
import { dashboard } from "./dashboard.js";
import { loadMonth, SITES } from "./load.js";

/**
 * `make bench-reports`: a month of synthetic traffic (BENCH_REPORT_EVENTS, default 10 million
 * events) in chDB, then a standard dashboard through QueryService.compute, each report
 * BENCH_REPORT_RUNS times (default 30); prints p50 and p95 per report, from the rollups where
 * they can answer and from the raw tables for comparison. The data stays in BENCH_REPORT_DIR
 * (default under the system's temporary folder) and is reused when it is already there.
 */
const events = Number(process.env["BENCH_REPORT_EVENTS"] ?? 10_000_000);
const runs = Number(process.env["BENCH_REPORT_RUNS"] ?? 30);
const dir = process.env["BENCH_REPORT_DIR"] ?? join(tmpdir(), "pulse-bench-reports");
const say = (line: string): void => console.log(line);

const main = async (): Promise<void> => {
  const machine = machineInfo(undefined);
  say(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memGiB} GiB, node ${machine.node}, commit ${machine.commit}${machine.dirty ? " (dirty)" : ""}, load ${machine.loadAvgAtStart.join(" ")}`);
  await mkdir(dir, { recursive: true });
  // The suffix is the rollup layout: a folder whose rollups an older layout wrote (visitor states rather than keys) is not reused.
  const store = await openAnalyticsStore({ url: undefined, chdbPath: join(dir, `chdb-${events}-r3`), database: "bench" });
  await store.init();
  const now = Date.now();
  const [existing] = await store.query<{ n: string; last: string }>(`SELECT count() AS n, toUnixTimestamp64Milli(max(ts)) AS last FROM bench.events`, {});
  let dataNow = Number(existing?.last ?? 0);
  // A folder holds one dataset, loaded once (its name carries the size asked for).
  if (Number(existing?.n ?? 0) === 0) {
    say(`loading ${events.toLocaleString("en")} events into ${dir}`);
    await loadMonth(store, events, now, say);
    dataNow = now;
  } else {
    say(`reusing ${Number(existing?.n).toLocaleString("en")} events in ${dir}`);
    // As `pulse start` would: rollup tables of an older layout, or added since the load, are made again and filled.
    const migration = await migrateSchema(store, store.database);
    if (migration.remadeTables.length > 0) {
      const t = performance.now();
      const refresher = new RollupRefresher(store);
      const hours = await refresher.touchAll();
      await refresher.refresh();
      say(`  rollup tables ${migration.remadeTables.join(", ")} made again: ${hours} site-hours recomputed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  }
  const sites = new Map<string, ReportSite>(SITES.map((s) => [s.id, { timezone: s.timezone }]));
  const keyEvents = ["signup", "purchase"];
  // The clock of the data: a reused dataset answers as of when it was loaded.
  const clock = () => dataNow + (Date.now() - now);
  const auto = queryService(store, (id) => sites.get(id), { keyEvents, now: clock });
  const raw = queryService(store, (id) => sites.get(id), { keyEvents, now: clock, source: "raw" });
  const [bySite] = await store.query<Record<string, string>>(`SELECT countIf(site = 'big') AS big, countIf(site = 'mid') AS mid, countIf(site = 'small') AS small FROM bench.events`, {});
  say(`events per site: big ${Number(bySite?.["big"]).toLocaleString("en")}, mid ${Number(bySite?.["mid"]).toLocaleString("en")}, small ${Number(bySite?.["small"]).toLocaleString("en")}`);

  const lines = ["| site | report | path | rows | p50 ms | p95 ms | raw p50 ms | raw p95 ms |", "|---|---|---|---:|---:|---:|---:|---:|"];
  for (const site of ["big", "small"]) {
    for (const report of dashboard(site)) {
      const spec = parseReportSpec(report.spec);
      const time = async (service: typeof auto, n: number): Promise<{ ms: number[]; rows: number; answer: string }> => {
        const ms: number[] = [];
        const first = await service.compute(spec);
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          await service.compute(spec);
          ms.push(performance.now() - t);
        }
        return { ms, rows: first.rows.length, answer: JSON.stringify([first.rows, first.rowCount, first.totals], (_k, v: unknown) => (typeof v === "number" ? Math.round(v * 1e9) / 1e9 : v)) };
      };
      const a = await time(auto, runs);
      const r = await time(raw, Math.max(3, Math.floor(runs / 5)));
      // The rollups must give the raw tables' numbers (realtime moves with the clock between the two).
      if (a.answer !== r.answer && report.spec["kind"] !== "realtime") say(`| ${site} | ${report.name} | MISMATCH between the rollups and the raw tables: ${a.answer.slice(0, 300)} vs ${r.answer.slice(0, 300)}`);
      const compiled = compileReport(spec, { database: store.database, timezone: sites.get(site)?.timezone ?? "UTC", keyEvents, nowMs: clock() }).compiled;
      const line = `| ${site} | ${report.name} | ${compiled.kind === "table" ? compiled.path : "raw"} | ${a.rows} | ${percentileOf(a.ms, 50).toFixed(0)} | ${percentileOf(a.ms, 95).toFixed(0)} | ${percentileOf(r.ms, 50).toFixed(0)} | ${percentileOf(r.ms, 95).toFixed(0)} |`;
      lines.push(line);
      say(line);
    }
  }
  say("");
  say(lines.join("\n"));
  await store.close();
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
