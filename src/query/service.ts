import { InvalidInput, StoreError } from "../core/errors.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { ServerMessage } from "./protocol.js";
import { compileReport, shapeRow, type ReportSpec } from "./report.js";

const CHUNK_ROWS = 500;

/** A whole report answer: what a subscription compares and what HTTP returns in one body. */
export interface ReportAnswer {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, string | number>[];
  readonly elapsedMs: number;
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
  if (!cancelled()) send({ id, type: "done", rowCount: answer.rows.length, elapsedMs: answer.elapsedMs });
};

export const queryService = (store: AnalyticsStore, isKnownSite: (site: string) => boolean): QueryService => {
  const compute = async (spec: ReportSpec): Promise<ReportAnswer> => {
    const started = performance.now();
    if (!isKnownSite(spec.site)) throw new InvalidInput("unknown_site", `site "${spec.site.slice(0, 128)}" is not registered`);
    const q = compileReport(spec, store.database);
    let rows: Record<string, unknown>[];
    try {
      rows = await store.query<Record<string, unknown>>(q.sql, q.params);
    } catch (e) {
      // The store's message may quote SQL; the client learns only that the query failed and whether to retry.
      throw new StoreError("query", "the report could not be computed", e instanceof StoreError && e.retryable, { cause: e });
    }
    return { columns: q.columns, rows: rows.map((r) => shapeRow(spec, r)), elapsedMs: Math.round(performance.now() - started) };
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
