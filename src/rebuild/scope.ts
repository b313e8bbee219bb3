import type { ScanScope } from "../../infra/eventlog/scan.js";

/** What a rebuild covers, from its arguments: one site or all, and a time range. */
export const scopeOf = (args: { readonly site: string | undefined; readonly fromTs: number | undefined; readonly toTs: number | undefined }): ScanScope => ({
  site: args.site,
  fromTs: args.fromTs ?? 0,
  toTs: args.toTs ?? 8_640_000_000_000_000,
});

/** SQL condition and parameters for "in the rebuilt scope", on a time column. */
export const inScope = (scope: ScanScope, timeColumn: string): { sql: string; params: Record<string, string | number> } => ({
  sql: `${scope.site === undefined ? "1" : "site = {site:String}"} AND ${timeColumn} >= fromUnixTimestamp64Milli({fromTs:Int64}, 'UTC') AND ${timeColumn} < fromUnixTimestamp64Milli({toTs:Int64}, 'UTC')`,
  params: { ...(scope.site === undefined ? {} : { site: scope.site }), fromTs: scope.fromTs, toTs: Math.min(scope.toTs, 253_402_300_799_000) },
});

