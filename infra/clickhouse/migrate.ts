import type { AnalyticsStore } from "./store.js";
import { schemaStatements } from "./schema.js";

/**
 * Brings the projection tables of a data folder made by an older build up to this build's
 * schema. The schema's own statements are the one definition: they are run into a scratch
 * database, and the two databases' tables and columns are compared in the store itself.
 *
 * - A column an events or sessions table lacks is added in place (existing rows get its
 *   default; a rebuild fills it from the log).
 * - A rollup table that differs at all (a column missing, left over or of another type, another
 *   engine or sorting key) is dropped and made again: rollups are derived, so nothing is lost once
 *   the caller recomputes every hour (see `remadeTables`), as it does when a rollup table is
 *   empty while events are stored (a table this build added, made empty by the store's init).
 * - An events or sessions table that differs otherwise cannot be changed in place; it is
 *   reported, and `pulse rebuild` writes a new version under the current schema.
 */
export interface SchemaMigration {
  readonly addedColumns: readonly string[];
  /** Rollup tables made again, or found empty while events are stored: the caller recomputes every hour. */
  readonly remadeTables: readonly string[];
  /** What could not be changed in place, one line each. */
  readonly incompatible: readonly string[];
}

interface TableRow {
  readonly name: string;
  readonly engine_full: string;
}

interface ColumnRow {
  readonly table: string;
  readonly name: string;
  readonly type: string;
  readonly default_kind: string;
  readonly default_expression: string;
}

const isDerived = (table: string): boolean => table.startsWith("rollup_");

/**
 * A table's engine and sorting, and its granule size (which the rollups set): other settings differ between builds
 * without changing what a table holds or how fast it reads.
 */
const engineOf = (t: TableRow): string => `${t.engine_full.replace(/\s+SETTINGS .*$/s, "")} index_granularity ${/index_granularity = (\d+)/.exec(t.engine_full)?.[1] ?? "8192"}`;

const tablesOf = (store: AnalyticsStore, db: string): Promise<TableRow[]> =>
  store.query<TableRow>(`SELECT name, engine_full FROM system.tables WHERE database = {db:String}`, { db });

const columnsOf = (store: AnalyticsStore, db: string): Promise<ColumnRow[]> =>
  store.query<ColumnRow>(`SELECT table, name, type, default_kind, default_expression FROM system.columns WHERE database = {db:String} ORDER BY table, position`, { db });

const definition = (c: ColumnRow): string => `${c.name} ${c.type}${c.default_kind ? ` ${c.default_kind} ${c.default_expression}` : ""}`;

/** Compares `db` with the current schema and changes what can be changed in place. A database without tables is left alone. */
export const migrateSchema = async (store: AnalyticsStore, db: string): Promise<SchemaMigration> => {
  const scratch = `${db}_schema_check`;
  const none: SchemaMigration = { addedColumns: [], remadeTables: [], incompatible: [] };
  const have = await tablesOf(store, db);
  if (have.length === 0) return none;
  await store.command(`DROP DATABASE IF EXISTS ${scratch}`, {});
  try {
    for (const statement of schemaStatements(scratch)) await store.command(statement, {});
    const [want, wantColumns, haveColumns] = await Promise.all([tablesOf(store, scratch), columnsOf(store, scratch), columnsOf(store, db)]);
    const haveTable = new Map(have.map((t) => [t.name, t]));
    const haveColumn = new Map(haveColumns.map((c) => [`${c.table}.${c.name}`, c]));
    const added: string[] = [];
    const remade: string[] = [];
    const incompatible: string[] = [];
    for (const table of want) {
      const old = haveTable.get(table.name);
      // A table missing altogether was made by the store's init already; nothing to compare.
      if (!old) continue;
      const columns = wantColumns.filter((c) => c.table === table.name);
      const differences: string[] = [];
      if (engineOf(old) !== engineOf(table)) differences.push(`engine ${engineOf(old)} instead of ${engineOf(table)}`);
      const missing: ColumnRow[] = [];
      for (const c of columns) {
        const current = haveColumn.get(`${table.name}.${c.name}`);
        if (!current) missing.push(c);
        else if (current.type !== c.type) differences.push(`column ${c.name} is ${current.type}, expected ${c.type}`);
      }
      // A rollup lacking a column would answer with its default for every hour made before, and one with a column
      // this build no longer writes (such as an older form of the visitor sets) holds hours counted another way: made again.
      const extra = haveColumns.some((c) => c.table === table.name && !columns.some((w) => w.name === c.name));
      if ((differences.length > 0 || missing.length > 0 || extra) && isDerived(table.name)) {
        await store.command(`DROP TABLE ${db}.${table.name}`, {});
        remade.push(table.name);
        continue;
      }
      if (differences.length > 0) incompatible.push(`${db}.${table.name}: ${differences.join("; ")}`);
      for (const c of missing) {
        await store.command(`ALTER TABLE ${db}.${table.name} ADD COLUMN IF NOT EXISTS ${definition(c)}`, {});
        added.push(`${table.name}.${c.name}`);
      }
    }
    // The dropped rollups come back empty, under the current definition.
    if (remade.length > 0) for (const statement of schemaStatements(db)) await store.command(statement, {});
    // A rollup table this build added was made empty by the store's init: its hours need computing as well.
    const [counts] = await store.query<Record<string, string>>(
      `SELECT ${want.map((t) => `(SELECT count() FROM ${db}.${t.name}) AS ${t.name}`).join(", ")}`,
      {},
    );
    const hasRows = (t: string): boolean => Number(counts?.[t] ?? 0) > 0;
    if (hasRows("events") || hasRows("sessions")) {
      for (const t of want) if (isDerived(t.name) && !hasRows(t.name) && !remade.includes(t.name)) remade.push(t.name);
    }
    return { addedColumns: added, remadeTables: remade, incompatible };
  } finally {
    await store.command(`DROP DATABASE IF EXISTS ${scratch}`, {});
  }
};
