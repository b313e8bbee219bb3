import type { SessionRules } from "../../actors/session/reducer.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { LogScanner, ScanScope, VisitorHistory } from "../../infra/eventlog/scan.js";
import type { RollupRefresher } from "../projection/rollups.js";
import { visitorRows } from "./rows.js";
import { tsvRows } from "../projection/tsv.js";
import { inScope } from "./scope.js";

const BATCH = 500;
const CONCURRENCY = 16;

export interface Rewrite {
  readonly store: AnalyticsStore;
  readonly db: string;
  readonly scanner: LogScanner;
  readonly scope: ScanScope;
  readonly rulesFor: (site: string) => SessionRules;
  readonly keys: readonly { site: string; visitor: string }[];
  /** Told which hours the rows fall in, when the caller refreshes rollups after. */
  readonly refresher: RollupRefresher | undefined;
}

/**
 * Rewrites some visitors in a version's tables from their whole history, read now: what a catch-up
 * does for visitors logged after a position. Their sessions that no longer exist get tombstones, the
 * way the live path hides a merged session. Returns how the event and session counts changed.
 */
export const rewriteVisitors = async (o: Rewrite): Promise<{ events: number; sessions: number; read: number }> => {
  const totals = { events: 0, sessions: 0, read: 0 };
  for (let i = 0; i < o.keys.length; i += BATCH) {
    const batch = o.keys.slice(i, i + BATCH);
    const wanted = new Set(batch.map((k) => `${k.site}\u001f${k.visitor}`));
    const where = inScope(o.scope, "start");
    const oldSessions = (
      await o.store.query<{ site: string; visitor_id: string; session_id: string; started: string; v: string; events: string }>(
        `SELECT site, visitor_id, session_id, toString(start) AS started, toString(version) AS v, events FROM ${o.db}.sessions FINAL WHERE visitor_id IN {visitors:Array(String)} AND ${where.sql}`,
        { ...where.params, visitors: [...new Set(batch.map((k) => k.visitor))] },
      )
    ).filter((r) => wanted.has(`${r.site}\u001f${r.visitor_id}`));
    // Read after the rows above: a session the live writer adds meanwhile is not mistaken for one that went away.
    const histories: VisitorHistory[] = [];
    for (let j = 0; j < batch.length; j += CONCURRENCY) {
      histories.push(...(await Promise.all(batch.slice(j, j + CONCURRENCY).map((k) => o.scanner.readVisitor(o.scope, k.site, k.visitor)))));
    }
    const eventRows: Record<string, unknown>[] = [];
    const sessionRows: Record<string, unknown>[] = [];
    const fresh = new Set<string>();
    for (const h of histories) {
      const rows = visitorRows(h, o.rulesFor(h.site));
      eventRows.push(...rows.events);
      sessionRows.push(...rows.sessions);
      for (const id of rows.sessionIds) fresh.add(`${h.site}\u001f${id}`);
      totals.events += rows.events.length;
      totals.sessions += rows.sessions.length;
      totals.read += rows.events.length;
    }
    for (const old of oldSessions) {
      totals.events -= Number(old.events);
      totals.sessions--;
      if (fresh.has(`${old.site}\u001f${old.session_id}`)) continue;
      sessionRows.push({ site: old.site, session_id: old.session_id, visitor_id: old.visitor_id, start: old.started, version: (BigInt(old.v) + 1n).toString(), is_deleted: 1 });
    }
    o.refresher?.touch(rowHours(eventRows, "ts").concat(rowHours(sessionRows, "start")));
    await o.store.insertEncoded("events", "TabSeparated", tsvRows(eventRows, "events"), o.db);
    await o.store.insertEncoded("sessions", "TabSeparated", tsvRows(sessionRows, "sessions"), o.db);
  }
  return totals;
};

/** (site, hour) pairs of rows, hours as `YYYY-MM-DD HH:00:00` from ClickHouse's DateTime64 text. */
const rowHours = (rows: readonly Record<string, unknown>[], column: string): [string, string][] =>
  rows.filter((r) => r[column] !== undefined).map((r) => [String(r["site"]), `${String(r[column]).slice(0, 13)}:00:00`]);
