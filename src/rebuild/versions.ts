import type { AnalyticsStore } from "../../infra/clickhouse/store.js";

/** A projection version: a database with the projection schema, and how it was built. */
export interface ProjectionVersion {
  readonly version: number;
  readonly database: string;
  readonly built: string;
  readonly source: string;
  /** What was rebuilt and under which rules, as given to `pulse rebuild`. */
  readonly scope: string;
  readonly rules: string;
  readonly events: number;
  readonly sessions: number;
}

/**
 * Versions live in a small meta database beside the projections: `versions` says how each was
 * built, `activations` is an append-only history whose newest row names the active one. Version 1
 * is the database the live path created, `<namespace>`, and has no row of its own.
 */
export const metaDatabase = (namespace: string): string => `${namespace}_meta`;
export const versionDatabase = (namespace: string, version: number): string => (version === 1 ? namespace : `${namespace}_v${version}`);

export const ensureMeta = async (store: AnalyticsStore, namespace: string): Promise<void> => {
  const m = metaDatabase(namespace);
  await store.command(`CREATE DATABASE IF NOT EXISTS ${m}`, {});
  await store.command(
    `CREATE TABLE IF NOT EXISTS ${m}.versions (version UInt32, database String, built DateTime64(3, 'UTC'), source String, scope String, rules String, events UInt64, sessions UInt64) ENGINE = MergeTree ORDER BY version`,
    {},
  );
  await store.command(`CREATE TABLE IF NOT EXISTS ${m}.activations (at DateTime64(3, 'UTC'), version UInt32, database String, position UInt64) ENGINE = MergeTree ORDER BY at`, {});
  await store.command(`CREATE TABLE IF NOT EXISTS ${m}.checkpoints (job String, at DateTime64(3, 'UTC'), state String) ENGINE = MergeTree ORDER BY (job, at)`, {});
};

interface Activation {
  readonly version: number;
  readonly database: string;
  /** The log position up to which it held every event when it became active. */
  readonly position: number;
}

/** Newest first. */
const activations = async (store: AnalyticsStore, namespace: string): Promise<Activation[]> =>
  (await store.query<{ version: number; database: string; position: string }>(`SELECT version, database, toString(position) AS position FROM ${metaDatabase(namespace)}.activations ORDER BY at DESC, version DESC`, {})).map(
    (r) => ({ version: Number(r.version), database: r.database, position: Number(r.position) }),
  );

export const activeVersion = async (store: AnalyticsStore, namespace: string): Promise<Activation> =>
  (await activations(store, namespace))[0] ?? { version: 1, database: versionDatabase(namespace, 1), position: 0 };

/** The version that was active before the current one, if any. */
export const previousVersion = async (store: AnalyticsStore, namespace: string): Promise<Activation | undefined> => {
  const [current, ...older] = await activations(store, namespace);
  if (!current) return undefined;
  return older.find((a) => a.version !== current.version) ?? (current.version === 1 ? undefined : { version: 1, database: versionDatabase(namespace, 1), position: 0 });
};

/** At start-up of the process that owns the store: readers and the writer use the active version. */
export const restoreActiveVersion = async (store: AnalyticsStore, namespace: string): Promise<void> => {
  await ensureMeta(store, namespace);
  store.useDatabase((await activeVersion(store, namespace)).database);
};

/** The swap: one row makes the version active in the meta tables, then one assignment in this process. */
export const activate = async (store: AnalyticsStore, namespace: string, a: Omit<Activation, "position">, position: number): Promise<void> => {
  await store.command(`INSERT INTO ${metaDatabase(namespace)}.activations VALUES (now64(3), {version:UInt32}, {database:String}, {position:UInt64})`, {
    version: a.version,
    database: a.database,
    position,
  });
  store.useDatabase(a.database);
};

export const listVersions = async (store: AnalyticsStore, namespace: string): Promise<ProjectionVersion[]> =>
  (await store.query<ProjectionVersion>(`SELECT version, database, toString(built) AS built, source, scope, rules, events, sessions FROM ${metaDatabase(namespace)}.versions ORDER BY version`, {})).map(
    (v) => ({ ...v, version: Number(v.version), events: Number(v.events), sessions: Number(v.sessions) }),
  );

export const recordVersion = (store: AnalyticsStore, namespace: string, v: Omit<ProjectionVersion, "built">): Promise<void> =>
  store.insert("versions", [{ ...v, built: new Date().toISOString().replace("T", " ").replace("Z", "") }], metaDatabase(namespace));

/** The next version number: above every version built, begun or active. */
export const nextVersion = async (store: AnalyticsStore, namespace: string): Promise<number> => {
  const m = metaDatabase(namespace);
  const [row] = await store.query<{ n: string }>(
    `SELECT toString(greatest(1, (SELECT max(version) FROM ${m}.versions), (SELECT max(version) FROM ${m}.activations), (SELECT max(toUInt32OrZero(JSONExtractString(state, 'version'))) FROM ${m}.checkpoints))) AS n`,
    {},
  );
  return Number(row?.n ?? 1) + 1;
};
