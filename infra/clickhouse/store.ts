import { createClient, ClickHouseError, type ClickHouseClient } from "@clickhouse/client";
import { mkdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { StoreError } from "../../src/core/errors.js";
import { schemaStatements } from "./schema.js";
import { columnsOf, type RowsFormat } from "../../src/projection/tsv.js";

interface RawInsert {
  readonly table: string;
  readonly values: Uint8Array;
  readonly format: RowsFormat;
  readonly columns?: readonly string[];
  readonly settings?: Readonly<Record<string, number>>;
}

export type QueryParams = Readonly<Record<string, string | number | readonly string[]>>;

/**
 * The analytics store. One code path for both engines: `@clickhouse/client` talks to a
 * ClickHouse server over HTTP, or to chDB in-process through chDB's connection adapter,
 * which runs queries off the event loop. chDB runs one statement at a time per connection, so
 * inserts, queries and commands (rollup refreshes, rebuild steps) each get a connection of their
 * own: a refresh of several seconds then no longer holds up the writer's inserts or the reports.
 */
export interface AnalyticsStore {
  /** The database holding the active projection version; read it at each use, a rebuild swaps it. */
  readonly database: string;
  /** Makes another database (a rebuilt version with the same schema) the active one. */
  useDatabase(db: string): void;
  /** Holds back inserts until the returned release is called; resolves once inserts under way are done. */
  holdInserts(): Promise<() => void>;
  readonly engine: "chdb" | "clickhouse";
  init(): Promise<void>;
  /** Into the active database, unless `into` names another (such inserts are never held). */
  insert(table: string, rows: readonly Record<string, unknown>[], into?: string): Promise<void>;
  /**
   * Rows already encoded (JSONEachRow, or TabSeparated in the order of `columnsOf(table)`), inserted
   * without decoding them. Into the active database, held like `insert`, unless `into` names another.
   */
  insertEncoded(table: "events" | "sessions", format: RowsFormat, body: Uint8Array, into?: string): Promise<void>;
  query<T>(sql: string, params: QueryParams): Promise<T[]>;
  /** A statement without a result, such as INSERT … SELECT. */
  command(sql: string, params: QueryParams): Promise<void>;
  close(): Promise<void>;
}

// ClickHouse codes that mean "try later": timeouts, too many parts/queries, memory pressure, network.
const RETRYABLE_CODES = new Set(["159", "160", "164", "202", "209", "210", "241", "252", "394", "425"]);

// chDB bundles its own copy of the client, whose ClickHouseError is another class of the same shape.
const isClickHouseError = (e: unknown): e is ClickHouseError => e instanceof ClickHouseError || (e instanceof Error && e.constructor.name === "ClickHouseError" && "code" in e);

// chDB's own errors (its raw insert's) carry the engine's code as `clickhouseCode`.
const chdbCode = (e: unknown): string | undefined => (e instanceof Error && "clickhouseCode" in e && e.clickhouseCode !== undefined ? String(e.clickhouseCode) : undefined);

const classify = (e: unknown, what: string): StoreError => {
  if (isClickHouseError(e)) return new StoreError("clickhouse", `${what}: ${e.message}`, RETRYABLE_CODES.has(String(e.code)), { cause: e });
  const code = chdbCode(e);
  if (code !== undefined) return new StoreError("clickhouse", `${what}: ${e instanceof Error ? e.message : String(e)}`, RETRYABLE_CODES.has(code), { cause: e });
  return new StoreError("clickhouse", `${what}: ${(e as Error).message}`, true, { cause: e });
};

export interface StoreTarget {
  /** ClickHouse server URL; undefined selects chDB in `chdbPath`. */
  readonly url: string | undefined;
  readonly chdbPath: string;
  readonly database: string;
  /**
   * chDB only: bytes its caches may hold, half for marks, a quarter each for primary indexes and
   * skip-index marks (ClickHouse's defaults are 5 GiB each). Unset: those defaults.
   */
  readonly chdbCacheBytes?: number;
}

/** Server settings of chDB's embedded engine: they can only be given as arguments to the first connection of a data directory. */
const chdbCacheArgs = (bytes: number): string[] => [
  `--mark_cache_size=${Math.floor(bytes / 2)}`,
  `--primary_index_cache_size=${Math.floor(bytes / 4)}`,
  `--index_mark_cache_size=${Math.floor(bytes / 4)}`,
];

export const openAnalyticsStore = async (target: StoreTarget): Promise<AnalyticsStore> => {
  let clients: { readonly writes: ClickHouseClient; readonly reads: ClickHouseClient; readonly commands: ClickHouseClient };
  // chDB only: encoded rows handed to the engine as bytes, on the writes connection.
  let rawInsert: ((params: RawInsert) => Promise<unknown>) | undefined;
  // Opened first and kept open: the engine takes its server settings from the first connection to its directory.
  let settings: { close(): void } | undefined;
  if (target.url) {
    // A server takes concurrent requests on one client's connection pool.
    const client = createClient({ url: target.url });
    clients = { writes: client, reads: client, commands: client };
  } else {
    await mkdir(target.chdbPath, { recursive: true });
    if (target.chdbCacheBytes !== undefined) {
      const { Session } = await import("chdb");
      settings = new Session(target.chdbPath, { connectionArgs: chdbCacheArgs(target.chdbCacheBytes) });
    }
    // Loaded only when used: the engine adds about 150 MiB to a process, and workers never need it.
    const { createChdbConnection } = await import("chdb/connection");
    // chDB bundles its own copy of the client's connection types; they match at run time but not nominally.
    // The connections share the one engine of the process and its data directory.
    const open = (connection = createChdbConnection({ path: target.chdbPath })): ClickHouseClient => createClient({ connection: connection as never });
    const writes = createChdbConnection({ path: target.chdbPath });
    // The client's `exec` would decode the bytes into a string and append them to the statement text, which the
    // engine then parses on one thread; a raw insert keeps them bytes and parses them on several.
    rawInsert = (params) => writes.chdb.rawInsert(params);
    clients = { writes: open(writes), reads: open(), commands: open() };
  }
  let db = target.database;
  // Inserts under way, and the hold a rebuild puts on them while it swaps versions.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const unheld = async (): Promise<void> => {
    while (held) await held;
  };
  /**
   * An insert into the active database (`into` undefined: the writer's) waits while a rebuild holds
   * inserts and is counted until done, so the hold can wait for it; one into another database is neither.
   */
  const inserting = async (table: string, into: string | undefined, run: (target: string) => Promise<unknown>): Promise<void> => {
    const counted = into === undefined;
    if (counted) {
      await unheld();
      inFlight++;
    }
    try {
      await run(`${into ?? db}.${table}`);
    } catch (e) {
      throw classify(e, `insert into ${table}`);
    } finally {
      if (counted && --inFlight === 0) drained?.();
    }
  };
  return {
    get database() {
      return db;
    },
    useDatabase(next) {
      db = next;
    },
    async holdInserts() {
      await unheld();
      let release!: () => void;
      held = new Promise<void>((r) => (release = r));
      while (inFlight > 0) await new Promise<void>((r) => (drained = r));
      return () => {
        held = undefined;
        release();
      };
    },
    engine: target.url ? "clickhouse" : "chdb",
    async init() {
      try {
        for (const statement of schemaStatements(target.database)) await clients.commands.command({ query: statement });
      } catch (e) {
        throw classify(e, "creating the schema");
      }
    },
    async insert(table, rows, into) {
      if (rows.length === 0) return;
      await inserting(table, into, (target) => clients.writes.insert({ table: target, values: rows as Record<string, unknown>[], format: "JSONEachRow" }));
    },
    async insertEncoded(table, format, body, into) {
      if (body.length === 0) return;
      await inserting(table, into, async (target) => {
        const tsv = format === "TabSeparated";
        if (rawInsert) {
          await rawInsert({ table: target, values: body, format, ...(tsv ? { columns: columnsOf(table), settings: { input_format_tsv_empty_as_default: 1 } } : {}) });
          return;
        }
        const query = tsv
          ? `INSERT INTO ${target} (${columnsOf(table).join(", ")}) SETTINGS input_format_tsv_empty_as_default = 1 FORMAT TabSeparated`
          : `INSERT INTO ${target} FORMAT JSONEachRow`;
        // `insert` would want objects and encode them again; `exec` sends the bytes as they are.
        const result = await clients.writes.exec({ query, values: Readable.from([body], { objectMode: false }) });
        result.stream.destroy();
      });
    },
    async query<T>(sql: string, params: QueryParams) {
      try {
        const rs = await clients.reads.query({ query: sql, query_params: params, format: "JSONEachRow" });
        return await rs.json<T>();
      } catch (e) {
        throw classify(e, "query");
      }
    },
    async command(sql: string, params: QueryParams) {
      try {
        await clients.commands.command({ query: sql, query_params: params });
      } catch (e) {
        throw classify(e, "command");
      }
    },
    async close() {
      for (const c of new Set(Object.values(clients))) await c.close();
      settings?.close();
    },
  };
};
