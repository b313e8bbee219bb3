import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { metaDatabase } from "./versions.js";

/** Where a rebuild stands; stored after each step, so a killed rebuild resumes from the last one. */
export interface Checkpoint {
  readonly version: number;
  readonly database: string;
  readonly phase: "scan" | "catchup" | "done" | "failed";
  /** The log position the scan reads up to; in catch-up, the position caught up to. */
  readonly position: number;
  /** The scanner's cursor (scan phase). */
  readonly cursor: unknown;
  /** Events and sessions written so far (what the checks expect at the end). */
  readonly events: number;
  readonly sessions: number;
  readonly visitors: number;
  readonly done: number;
  /** Session timeouts of the sites before this rebuild changed them, for a rollback. */
  readonly previousTimeouts?: Readonly<Record<string, number>>;
}

export const saveCheckpoint = (store: AnalyticsStore, namespace: string, job: string, c: Checkpoint): Promise<void> =>
  store.insert("checkpoints", [{ job, at: new Date().toISOString().replace("T", " ").replace("Z", ""), state: JSON.stringify(c) }], metaDatabase(namespace));

export const lastCheckpoint = async (store: AnalyticsStore, namespace: string, job: string): Promise<Checkpoint | undefined> => {
  const [row] = await store.query<{ state: string }>(`SELECT state FROM ${metaDatabase(namespace)}.checkpoints WHERE job = {job:String} ORDER BY at DESC LIMIT 1`, { job });
  return row ? (JSON.parse(row.state) as Checkpoint) : undefined;
};

/** Unfinished rebuilds, newest first: what `pulse status` reports. */
export const unfinished = async (store: AnalyticsStore, namespace: string): Promise<(Checkpoint & { job: string })[]> =>
  (
    await store.query<{ job: string; state: string }>(
      `SELECT job, argMax(state, at) AS state FROM ${metaDatabase(namespace)}.checkpoints GROUP BY job ORDER BY max(at) DESC`,
      {},
    )
  )
    .map((r) => ({ job: r.job, ...(JSON.parse(r.state) as Checkpoint) }))
    .filter((c) => c.phase === "scan" || c.phase === "catchup");
