import { emptyVisitor, ingest, type SessionRules } from "../../actors/session/reducer.js";
import type { VisitorHistory } from "../../infra/eventlog/scan.js";
import { eventRow, sessionRow } from "../worker/projection.js";

export interface VisitorRows {
  readonly events: Record<string, unknown>[];
  readonly sessions: Record<string, unknown>[];
  readonly sessionIds: ReadonlySet<string>;
}

/** A visitor's projection rows from its whole history, through the live path's reducer, from nothing. */
export const visitorRows = (h: VisitorHistory, rules: SessionRules): VisitorRows => {
  const result = ingest(emptyVisitor, h.events, { ...rules, retainMs: Number.POSITIVE_INFINITY });
  return {
    events: result.placed.map(eventRow),
    sessions: result.touched.map(sessionRow),
    sessionIds: new Set(result.touched.map((s) => s.id)),
  };
};
