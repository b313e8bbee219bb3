import { InvalidInput, StoreError } from "../core/errors.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { ServerMessage } from "./protocol.js";
import { compileReport, type ReportContext, type ReportSpec, type ReportTable } from "./report.js";

const CHUNK_ROWS = 500;

/** A whole report answer: what a subscription compares and what HTTP returns in one body. */
export interface ReportAnswer extends ReportTable {
  readonly elapsedMs: number;
}

/** What the query side needs to know of a site. */
export interface ReportSite {
  readonly timezone: string;
}

export interface QueryService {
  /** Computes a report in full. */
  compute(spec: ReportSpec): Promise<ReportAnswer>;
  /** Runs a report and hands its answer to `send` as row chunks then `done`, unless `cancelled()` turns true first. */
  run(id: string, spec: ReportSpec, send: (m: ServerMessage) => void, cancelled: () => boolean): Promise<void>;
}

/** Sends an answer as row chunks then `done`, checking for cancellation between chunks. */
export const streamAnswer = (id: string, answer: ReportAnswer, send: (m: ServerMessage) => void, cancelled: () => boolean): void => {
  for (let i = 0; i < answer.rows.length; i += CHUNK_ROWS) {
    if (cancelled()) return;
    send({ id, type: "rows", columns: answer.columns, rows: answer.rows.slice(i, i + CHUNK_ROWS) });
  }
  if (!cancelled()) send({ id, type: "done", rowCount: answer.rowCount, elapsedMs: answer.elapsedMs, ...(answer.totals ? { totals: answer.totals } : {}) });
};

export interface QueryOptions {
  /** Event names counted as key events. */
  readonly keyEvents: readonly string[];
  readonly now?: () => number;
  /** Tests and benchmarks compare the raw tables with the rollups; clients never choose. */
  readonly source?: ReportContext["source"];
  /**
   * Whether a site has rows its rollups do not reflect yet. Its reports then read the raw tables,
   * so that an answer includes everything written, whichever path could serve it.
   */
  readonly rollupsBehind?: (site: string) => boolean;
}

export const queryService = (store: AnalyticsStore, siteOf: (site: string) => ReportSite | undefined, options: QueryOptions): QueryService => {
  const now = options.now ?? Date.now;
  const compute = async (spec: ReportSpec): Promise<ReportAnswer> => {
    const started = performance.now();
    const site = siteOf(spec.site);
    if (!site) throw new InvalidInput("unknown_site", `site "${spec.site.slice(0, 128)}" is not registered`);
    const source = options.source ?? (options.rollupsBehind?.(spec.site) ? "raw" : undefined);
    const report = compileReport(spec, { database: store.database, timezone: site.timezone, keyEvents: options.keyEvents, nowMs: now(), ...(source ? { source } : {}) });
    let table: ReportTable;
    try {
      table = await report.answer((q) => store.query<Record<string, unknown>>(q.sql, q.params));
    } catch (e) {
      // The store's message may quote SQL; the client learns only that the query failed and whether to retry.
      throw new StoreError("query", "the report could not be computed", e instanceof StoreError && e.retryable, { cause: e });
    }
    return { ...table, elapsedMs: Math.round(performance.now() - started) };
  };
  return {
    compute,
    async run(id, spec, send, cancelled) {
      const answer = await compute(spec);
      streamAnswer(id, answer, send, cancelled);
    },
  };
};

/** For an edge in a process that does not own the analytics store. */
export const unavailableQueries: QueryService = {
  compute: () => Promise.reject(new StoreError("query", "this process does not serve queries; ask the process that runs the store role", false)),
  run: () => Promise.reject(new StoreError("query", "this process does not serve queries; ask the process that runs the store role", false)),
};
