import { createClient, ClickHouseError, type ClickHouseClient } from "@clickhouse/client";
import { mkdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { StoreError } from "../../src/core/errors.js";
import { schemaStatements } from "./schema.js";

export type QueryParams = Readonly<Record<string, string | number | readonly string[]>>;

/**
 * The analytics store. One code path for both engines: `@clickhouse/client` talks to a
 * ClickHouse server over HTTP, or to chDB in-process through chDB's connection adapter,
 * which runs queries off the event loop.
 */
export interface AnalyticsStore {
  readonly database: string;
  readonly engine: "chdb" | "clickhouse";
  init(): Promise<void>;
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** Rows already encoded as JSONEachRow (one JSON object a line), inserted without decoding them. */
  insertJsonEachRow(table: string, body: Uint8Array): Promise<void>;
  query<T>(sql: string, params: QueryParams): Promise<T[]>;
  /** A statement without a result, such as INSERT … SELECT. */
  command(sql: string, params: QueryParams): Promise<void>;
  close(): Promise<void>;
}

// ClickHouse codes that mean "try later": timeouts, too many parts/queries, memory pressure, network.
const RETRYABLE_CODES = new Set(["159", "160", "164", "202", "209", "210", "241", "252", "394", "425"]);

// chDB bundles its own copy of the client, whose ClickHouseError is another class of the same shape.
const isClickHouseError = (e: unknown): e is ClickHouseError => e instanceof ClickHouseError || (e instanceof Error && e.constructor.name === "ClickHouseError" && "code" in e);

const classify = (e: unknown, what: string): StoreError => {
  if (isClickHouseError(e)) return new StoreError("clickhouse", `${what}: ${e.message}`, RETRYABLE_CODES.has(String(e.code)), { cause: e });
  return new StoreError("clickhouse", `${what}: ${(e as Error).message}`, true, { cause: e });
};

export interface StoreTarget {
  /** ClickHouse server URL; undefined selects chDB in `chdbPath`. */
  readonly url: string | undefined;
  readonly chdbPath: string;
  readonly database: string;
}

export const openAnalyticsStore = async (target: StoreTarget): Promise<AnalyticsStore> => {
  let client: ClickHouseClient;
  if (target.url) client = createClient({ url: target.url });
  else {
    await mkdir(target.chdbPath, { recursive: true });
    // Loaded only when used: the engine adds about 150 MiB to a process, and workers never need it.
    const { createChdbConnection } = await import("chdb/connection");
    // chDB bundles its own copy of the client's connection types; they match at run time but not nominally.
    client = createClient({ connection: createChdbConnection({ path: target.chdbPath }) as never });
  }
  const db = target.database;
  return {
    database: db,
    engine: target.url ? "clickhouse" : "chdb",
    async init() {
      try {
        for (const statement of schemaStatements(db)) await client.command({ query: statement });
      } catch (e) {
        throw classify(e, "creating the schema");
      }
    },
    async insert(table, rows) {
      if (rows.length === 0) return;
      try {
        await client.insert({ table: `${db}.${table}`, values: rows as Record<string, unknown>[], format: "JSONEachRow" });
      } catch (e) {
        throw classify(e, `insert into ${table}`);
      }
    },
    async insertJsonEachRow(table, body) {
      if (body.length === 0) return;
      try {
        // `insert` would want objects for JSONEachRow and encode them again; `exec` sends the bytes as they are.
        const result = await client.exec({ query: `INSERT INTO ${db}.${table} FORMAT JSONEachRow`, values: Readable.from([body], { objectMode: false }) });
        result.stream.destroy();
      } catch (e) {
        throw classify(e, `insert into ${table}`);
      }
    },
    async query<T>(sql: string, params: QueryParams) {
      try {
        const rs = await client.query({ query: sql, query_params: params, format: "JSONEachRow" });
        return await rs.json<T>();
      } catch (e) {
        throw classify(e, "query");
      }
    },
    async command(sql: string, params: QueryParams) {
      try {
        await client.command({ query: sql, query_params: params });
      } catch (e) {
        throw classify(e, "command");
      }
    },
    close: () => client.close(),
  };
};
