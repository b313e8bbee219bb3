import { InvalidInput, StoreError } from "../core/errors.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { ServerMessage } from "./protocol.js";
import { compileReport, shapeRow, type ReportSpec } from "./report.js";

const CHUNK_ROWS = 500;

export interface QueryService {
  /** Runs a report and hands its answer to `send` as row chunks then `done`, unless `cancelled()` turns true first. */
  run(id: string, spec: ReportSpec, send: (m: ServerMessage) => void, cancelled: () => boolean): Promise<void>;
}

export const queryService = (store: AnalyticsStore, isKnownSite: (site: string) => boolean): QueryService => ({
  async run(id, spec, send, cancelled) {
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
    for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
      if (cancelled()) return;
      send({ id, type: "rows", columns: q.columns, rows: rows.slice(i, i + CHUNK_ROWS).map((r) => shapeRow(spec, r)) });
    }
    if (!cancelled()) send({ id, type: "done", rowCount: rows.length, elapsedMs: Math.round(performance.now() - started) });
  },
});

/** For an edge in a process that does not own the analytics store. */
export const unavailableQueries: QueryService = {
  run: () => Promise.reject(new StoreError("query", "this process does not serve queries; ask the process that runs the store role", false)),
};
