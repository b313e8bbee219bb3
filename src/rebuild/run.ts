import type { SessionRules } from "../../actors/session/reducer.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { migrateSchema } from "../../infra/clickhouse/migrate.js";
import { schemaStatements } from "../../infra/clickhouse/schema.js";
import type { LogScanner, ScanScope } from "../../infra/eventlog/scan.js";
import { StoreError, Unavailable } from "../core/errors.js";
import { stableId } from "../core/hash.js";
import { RollupRefresher } from "../projection/rollups.js";
import { lastCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.js";
import { estimate, type RebuildNews } from "./progress.js";
import { rewriteVisitors } from "./catch-up.js";
import { inScope, scopeOf } from "./scope.js";
import { visitorRows } from "./rows.js";
import { TsvBuffer } from "../projection/tsv.js";
import { activate, activeVersion, ensureMeta, listVersions, nextVersion, previousVersion, recordVersion, versionDatabase } from "./versions.js";
import { dryRunReport, type DryRunTotals } from "./dry-run.js";

/** What `pulse rebuild` was asked to do. */
export interface RebuildArgs {
  readonly site: string | undefined;
  readonly fromTs: number | undefined;
  readonly toTs: number | undefined;
  /** A new session timeout; unset: each site's current one. */
  readonly sessionTimeoutMs: number | undefined;
  readonly source: "elasticsearch" | "jetstream";
  readonly dryRun: boolean;
}

export interface RebuildDeps {
  readonly store: AnalyticsStore;
  readonly namespace: string;
  readonly scanner: LogScanner;
  /** A site's current session timeout (registry, else configuration). */
  readonly timeoutOf: (site: string) => number;
  readonly keyEvents: ReadonlySet<string>;
  /** Every registered site's session timeout now. */
  readonly timeouts: () => Readonly<Record<string, number>>;
  /** Gives sites new session timeouts, which the live path reads per site. */
  readonly setTimeouts: (timeouts: Readonly<Record<string, number>>) => Promise<void>;
  readonly tell: (news: RebuildNews) => void;
  /** Resolves once the store's writer has inserted every projection row published so far (absent: no live writer). */
  readonly projectionsDrained?: () => Promise<void>;
  /** Turns true when the process is stopping: the rebuild ends at its next step and resumes from its checkpoint later. */
  readonly cancelled?: () => boolean;
}

export type RebuildOutcome =
  | { readonly kind: "built"; readonly version: number; readonly database: string; readonly events: number; readonly sessions: number; readonly seconds: number }
  | { readonly kind: "dry-run"; readonly report: string; readonly totals: readonly DryRunTotals[] };

const INSERT_ROWS = 50_000;
const QUIET_ENOUGH = 200;
const MAX_CATCHUP_ROUNDS = 5;
const CHECKPOINT_MS = 1_000;
const PROGRESS_MS = 500;
const RULE_PROPAGATION_MS = 1_000;


/** A rebuild is the same job as an earlier unfinished one when asked the same thing: it then resumes it. */
const jobOf = (args: RebuildArgs): string => stableId("rebuild", JSON.stringify([args.site ?? "*", args.fromTs ?? 0, args.toTs ?? 0, args.sessionTimeoutMs ?? 0, args.source]));

const describeCheckpoint = (c: Checkpoint): string =>
  c.phase === "scan"
    ? `${Math.floor(c.done * 100)}% of the scan (${c.visitors.toLocaleString("en-US")} visitors, ${c.events.toLocaleString("en-US")} events written to v${c.version})`
    : `the catch-up from log position ${c.position} (v${c.version})`;

/**
 * `pulse rebuild`: reads the whole log in scope per visitor, runs the live path's reducer under the
 * given rules, writes a new version's tables, catches up with what was logged meanwhile, checks the
 * result and makes it the active version, keeping the previous one for `--rollback`.
 * Runs in the process that owns the analytics store.
 */
export const runRebuild = async (deps: RebuildDeps, args: RebuildArgs): Promise<RebuildOutcome> => {
  const { store, namespace, scanner, tell } = deps;
  const scope = scopeOf(args);
  const rulesFor = (site: string): SessionRules => ({ timeoutMs: args.sessionTimeoutMs ?? deps.timeoutOf(site), keyEvents: deps.keyEvents, retainMs: Number.POSITIVE_INFINITY });
  await ensureMeta(store, namespace);
  const started = Date.now();

  if (args.dryRun) {
    const totals = new Map<string, DryRunTotals>();
    let events = 0;
    for await (const chunk of scanner.scan(scope, await scanner.position(), undefined)) {
      for (const h of chunk.visitors) {
        const rows = visitorRows(h, rulesFor(h.site));
        const t = totals.get(h.site) ?? { site: h.site, sessions: 0, users: 0, engaged: 0, events: 0 };
        const human = rows.sessions.filter((s) => s["is_bot"] === 0);
        totals.set(h.site, {
          site: h.site,
          sessions: t.sessions + human.length,
          users: t.users + (human.length > 0 ? 1 : 0),
          engaged: t.engaged + human.filter((s) => s["engaged"] === 1).length,
          events: t.events + h.events.length,
        });
        events += h.events.length;
      }
      tell({ type: "progress", phase: chunk.phase, done: chunk.done, events, ...estimate(0, chunk.done, events, Date.now() - started) });
    }
    const active = await activeVersion(store, namespace);
    const where = inScope(scope, "start");
    const current = await store.query<{ site: string; sessions: string; users: string; engaged: string }>(
      `SELECT site, count() AS sessions, uniqExact(visitor_id) AS users, countIf(engaged = 1) AS engaged FROM ${active.database}.sessions FINAL WHERE is_bot = 0 AND ${where.sql} GROUP BY site ORDER BY site`,
      where.params,
    );
    const now = current.map((r) => ({ site: r.site, sessions: Number(r.sessions), users: Number(r.users), engaged: Number(r.engaged), events: 0 }));
    const after = [...totals.values()].sort((a, b) => a.site.localeCompare(b.site));
    return { kind: "dry-run", report: dryRunReport(now, after, active.version), totals: after };
  }

  const job = jobOf(args);
  let cp = await lastCheckpoint(store, namespace, job);
  if (cp && (cp.phase === "scan" || cp.phase === "catchup")) tell({ type: "log", line: `resuming at ${describeCheckpoint(cp)}` });
  else {
    const version = await nextVersion(store, namespace);
    const database = versionDatabase(namespace, version);
    await store.command(`DROP DATABASE IF EXISTS ${database}`, {});
    for (const statement of schemaStatements(database)) await store.command(statement, {});
    const position = await scanner.position();
    // A partial rebuild: what lies outside its scope is carried over from the active version as it is.
    if (args.site !== undefined || args.fromTs !== undefined || args.toTs !== undefined) {
      const active = (await activeVersion(store, namespace)).database;
      const ev = inScope(scope, "ts");
      const se = inScope(scope, "start");
      await store.command(`INSERT INTO ${database}.events SELECT * FROM ${active}.events FINAL WHERE NOT (${ev.sql})`, ev.params);
      await store.command(`INSERT INTO ${database}.sessions SELECT * FROM ${active}.sessions FINAL WHERE NOT (${se.sql})`, se.params);
    }
    cp = { version, database, phase: "scan", position, cursor: undefined, events: 0, sessions: 0, visitors: 0, done: 0 };
    await saveCheckpoint(store, namespace, job, cp);
    tell({ type: "log", line: `building version ${version} (${database}) from the ${scanner.backend} log up to position ${position}` });
  }
  const db = cp.database;
  let state: Checkpoint = cp;
  const save = async (next: Checkpoint): Promise<void> => {
    state = next;
    await saveCheckpoint(store, namespace, job, next);
  };

  // Rows are encoded as they are made and wait here for a large insert; checkpoints come only after what they
  // cover was inserted.
  const eventRows = new TsvBuffer("events");
  const sessionRows = new TsvBuffer("sessions");
  // chDB inserts off the event loop: one insert stays in flight while the next rows are made and encoded.
  let inFlight: Promise<void> = Promise.resolve();
  const send = async (): Promise<void> => {
    const [e, s] = [eventRows.take(), sessionRows.take()];
    await inFlight;
    inFlight = (async () => {
      await store.insertEncoded("events", "TabSeparated", e, db);
      await store.insertEncoded("sessions", "TabSeparated", s, db);
    })();
  };
  const flush = async (): Promise<void> => {
    await send();
    await inFlight;
  };

  let eventsThisRun = 0;
  const done0 = state.done;
  let lastProgress = 0;
  const progress = (phase: string, done: number): void => {
    if (Date.now() - lastProgress < PROGRESS_MS) return;
    lastProgress = Date.now();
    tell({ type: "progress", phase, done, events: state.events, ...estimate(done0, done, eventsThisRun, Date.now() - started) });
  };

  if (state.phase === "scan") {
    let events = state.events;
    let sessions = state.sessions;
    let visitors = state.visitors;
    let lastSaved = Date.now();
    for await (const chunk of scanner.scan(scope, state.position, state.cursor)) {
      for (const h of chunk.visitors) {
        const rows = visitorRows(h, rulesFor(h.site));
        for (const r of rows.events) eventRows.add(r);
        for (const r of rows.sessions) sessionRows.add(r);
        events += rows.events.length;
        sessions += rows.sessions.length;
        eventsThisRun += rows.events.length;
        visitors++;
      }
      if (eventRows.rows >= INSERT_ROWS) await send();
      // Steps without visitors (the JetStream spill) are cheap to record and mark phase ends: always kept.
      if (chunk.checkpoint && (chunk.visitors.length === 0 || Date.now() - lastSaved >= CHECKPOINT_MS)) {
        await flush();
        await save({ ...state, cursor: chunk.cursor, events, sessions, visitors, done: chunk.done });
        lastSaved = Date.now();
      } else state = { ...state, events, sessions, visitors, done: chunk.done };
      progress(chunk.phase, chunk.done);
      if (deps.cancelled?.()) throw new Unavailable("rebuild_stopped", "the rebuild stopped with its process; run it again to resume from its checkpoint");
    }
    await flush();
    await save({ ...state, phase: "catchup", cursor: undefined, events, sessions, visitors, done: 1 });
  }

  const catchUp = async (keys: readonly { site: string; visitor: string }[], refresher: RollupRefresher | undefined): Promise<void> => {
    const d = await rewriteVisitors({ store, db, scanner, scope, rulesFor, keys, refresher });
    state = { ...state, events: state.events + d.events, sessions: state.sessions + d.sessions };
    eventsThisRun += d.read;
  };

  // A new rule reaches the live path before the catch-up: whatever is logged after the last catch-up's
  // position was then already processed under it, so the live rows that follow the swap agree with the rebuild.
  if (args.sessionTimeoutMs !== undefined && state.previousTimeouts === undefined) {
    const before = deps.timeouts();
    const sites = Object.keys(before).filter((site) => args.site === undefined || site === args.site);
    await save({ ...state, previousTimeouts: Object.fromEntries(sites.map((site) => [site, before[site] as number])) });
    await deps.setTimeouts(Object.fromEntries(sites.map((site) => [site, args.sessionTimeoutMs as number])));
    tell({ type: "log", line: `the live path now uses a session timeout of ${args.sessionTimeoutMs / 60_000} min for ${sites.join(", ") || "no registered site"}` });
  }
  if (args.sessionTimeoutMs !== undefined && deps.projectionsDrained) {
    // Rows the workers made under the old rule may still wait for the writer; after the swap they would land
    // in the new version. Workers see the registry change within moments; then the writer's backlog is drained.
    await new Promise((r) => setTimeout(r, RULE_PROPAGATION_MS));
    await deps.projectionsDrained();
  }

  // Catch up while the live writer goes on, until little is left for the pause.
  let position = state.position;
  for (let round = 0; round < MAX_CATCHUP_ROUNDS; round++) {
    const changed = await scanner.changedSince(scope, position);
    tell({ type: "log", line: `catching up: ${changed.visitors.length} visitors logged meanwhile` });
    await catchUp(changed.visitors, undefined);
    position = changed.position;
    await save({ ...state, position });
    if (changed.visitors.length < QUIET_ENOUGH) break;
  }

  // Rollups of every hour of the new version.
  const refresher = new RollupRefresher(shadowView(store, db));
  tell({ type: "log", line: `computing rollups of ${await refresher.touchAll()} site-hours` });
  await refresher.refresh();

  // The swap: the live writer is held while the last events logged are caught up, then it writes the new version.
  const release = await store.holdInserts();
  let final: { visitors: readonly { site: string; visitor: string }[]; position: number } = { visitors: [], position };
  try {
    const changed = await scanner.changedSince(scope, position);
    final = changed;
    await catchUp(changed.visitors, refresher);
    if (refresher.pending > 0) await refresher.refresh();
    await check(store, db, scope, state.events);
    const previous = await activeVersion(store, namespace);
    await recordVersion(store, namespace, {
      version: state.version,
      database: db,
      source: scanner.backend,
      scope: JSON.stringify({ site: args.site ?? "*", from: args.fromTs === undefined ? "" : new Date(args.fromTs).toISOString(), to: args.toTs === undefined ? "" : new Date(args.toTs).toISOString() }),
      rules: JSON.stringify({ sessionTimeoutMs: args.sessionTimeoutMs ?? "per site", keyEvents: [...deps.keyEvents], ...(state.previousTimeouts ? { previousTimeouts: state.previousTimeouts } : {}) }),
      events: state.events,
      sessions: state.sessions,
    });
    await activate(store, namespace, { version: state.version, database: db }, changed.position);
    await save({ ...state, phase: "done", position: changed.position });
    tell({ type: "log", line: `version ${state.version} is active; version ${previous.version} is kept for --rollback` });
    await dropOlder(store, namespace, state.version, previous.version);
  } finally {
    release();
  }
  if (deps.projectionsDrained) await settleAfterSwap(deps, { store, db, scanner, scope, rulesFor }, final);
  return { kind: "built", version: state.version, database: db, events: state.events, sessions: state.sessions, seconds: (Date.now() - started) / 1000 };
};

/**
 * A safety net after the swap: once the rows the writer held are in, the visitors of the last catch-up
 * and those logged since are written from the log once more. The writer is held meanwhile: a rewrite
 * reads a visitor's history and inserts later, and a live row inserted in between (with a late event,
 * which leaves a session's version as it was) would otherwise be replaced by the older computation.
 */
const settleAfterSwap = async (
  deps: RebuildDeps,
  r: Omit<Parameters<typeof rewriteVisitors>[0], "keys" | "refresher">,
  final: { visitors: readonly { site: string; visitor: string }[]; position: number },
): Promise<void> => {
  await deps.projectionsDrained?.();
  const refresher = new RollupRefresher(shadowView(r.store, r.db));
  const release = await r.store.holdInserts();
  try {
    // Listed under the hold (Elasticsearch refreshes here): whatever the writer inserted before is in what is read.
    const later = await r.scanner.changedSince(r.scope, final.position);
    const keys = new Map([...final.visitors, ...later.visitors].map((k) => [`${k.site}\u001f${k.visitor}`, k]));
    await rewriteVisitors({ ...r, keys: [...keys.values()], refresher });
  } finally {
    release();
  }
  if (refresher.pending > 0) await refresher.refresh();
};

/** The same store, seen as if the given database were active: what the rollup refresher computes in. */
const shadowView = (store: AnalyticsStore, database: string): AnalyticsStore => ({
  database,
  engine: store.engine,
  useDatabase: () => undefined,
  holdInserts: () => store.holdInserts(),
  init: () => Promise.resolve(),
  insert: (table, rows) => store.insert(table, rows, database),
  insertEncoded: (table, format, body) => store.insertEncoded(table, format, body, database),
  query: (sql, params) => store.query(sql, params),
  command: (sql, params) => store.command(sql, params),
  close: () => Promise.resolve(),
});

/** Before the swap: every event of the scope once, and every one in exactly one session. */
const check = async (store: AnalyticsStore, db: string, scope: ScanScope, expected: number): Promise<void> => {
  const ev = inScope(scope, "ts");
  const se = inScope(scope, "start");
  const [e] = await store.query<{ n: string; ids: string }>(`SELECT count() AS n, uniqExact(site, event_id) AS ids FROM ${db}.events FINAL WHERE ${ev.sql}`, ev.params);
  const [s] = await store.query<{ n: string }>(`SELECT sum(events) AS n FROM ${db}.sessions FINAL WHERE ${se.sql}`, se.params);
  const events = Number(e?.n ?? 0);
  const problems = [
    events !== expected ? `the new tables hold ${events} events in scope, the log ${expected}` : "",
    events !== Number(e?.ids ?? 0) ? `${events - Number(e?.ids ?? 0)} event ids appear twice` : "",
    Number(s?.n ?? 0) !== expected ? `sessions cover ${Number(s?.n ?? 0)} events, the log holds ${expected}` : "",
  ].filter(Boolean);
  if (problems.length > 0) throw new StoreError("rebuild", `checks failed, nothing swapped: ${problems.join("; ")}`, false);
};

/** Keeps the active and the previous version; older ones only take space. */
const dropOlder = async (store: AnalyticsStore, namespace: string, active: number, previous: number): Promise<void> => {
  const known = new Set([1, ...(await listVersions(store, namespace)).map((v) => v.version)]);
  for (const v of known) if (v !== active && v !== previous) await store.command(`DROP DATABASE IF EXISTS ${versionDatabase(namespace, v)}`, {});
};

interface RecordedRules {
  readonly sessionTimeoutMs?: number | string;
  readonly previousTimeouts?: Readonly<Record<string, number>>;
}

/**
 * `pulse rebuild --rollback`: the previous version becomes active again (and the current one previous).
 * Session timeouts a rebuild gave the live path go back to what they were, and those of the version
 * made active again come back. Events logged since the current version became active reached only it:
 * the previous version catches up with them first, under its own rules, the way a rebuild does.
 */
export const rollback = async (deps: Omit<RebuildDeps, "tell" | "timeouts">): Promise<string> => {
  const { store, namespace, scanner } = deps;
  await ensureMeta(store, namespace);
  const current = await activeVersion(store, namespace);
  const previous = await previousVersion(store, namespace);
  if (!previous) throw new StoreError("rebuild", "there is no previous version to roll back to", false);
  const versions = await listVersions(store, namespace);
  const rulesOf = (v: number): RecordedRules => JSON.parse(versions.find((x) => x.version === v)?.rules ?? "{}") as RecordedRules;
  const undo = rulesOf(current.version).previousTimeouts;
  const redo = rulesOf(previous.version);
  if (undo) await deps.setTimeouts(undo);
  if (redo.previousTimeouts && typeof redo.sessionTimeoutMs === "number") {
    const ms = redo.sessionTimeoutMs;
    await deps.setTimeouts(Object.fromEntries(Object.keys(redo.previousTimeouts).map((site) => [site, ms])));
  }
  const scope = scopeOf({ site: undefined, fromTs: undefined, toTs: undefined });
  const rewrite = { store, db: previous.database, scanner, scope, rulesFor: (site: string): SessionRules => ({ timeoutMs: deps.timeoutOf(site), keyEvents: deps.keyEvents, retainMs: Number.POSITIVE_INFINITY }), refresher: undefined };
  const refresher = new RollupRefresher(shadowView(store, previous.database));
  // The previous version may have been built by an older build: brought up to the current schema first, like the active one at start.
  const migration = await migrateSchema(store, previous.database);
  if (migration.incompatible.length > 0) {
    throw new StoreError("rebuild", `version ${previous.version} cannot be used by this build (${migration.incompatible.join("; ")}): run \`pulse rebuild\` instead`, false);
  }
  if (migration.remadeTables.length > 0) await refresher.touchAll();
  const first = await scanner.changedSince(scope, current.position);
  await rewriteVisitors({ ...rewrite, keys: first.visitors, refresher });
  const release = await store.holdInserts();
  try {
    const last = await scanner.changedSince(scope, first.position);
    await rewriteVisitors({ ...rewrite, keys: last.visitors, refresher });
    if (refresher.pending > 0) await refresher.refresh();
    await activate(store, namespace, previous, last.position);
  } finally {
    release();
  }
  return `version ${previous.version} (${previous.database}) is active again; version ${current.version} is kept`;
};
