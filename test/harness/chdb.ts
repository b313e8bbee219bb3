import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openAnalyticsStore, type AnalyticsStore } from "../../infra/clickhouse/store.js";

export interface TempStore {
  /** Set once the file's tests start. */
  readonly store: AnalyticsStore;
  /** The folder holding the store's data (in `chdb/`). */
  readonly dir: string;
}

/** A chDB store of its own for the calling test file, in a temporary folder removed afterwards. */
export const tempChdbStore = (database: string): TempStore => {
  const temp = {} as { store: AnalyticsStore; dir: string };
  beforeAll(async () => {
    temp.dir = await mkdtemp(join(tmpdir(), `pulse-${database}-`));
    temp.store = await openAnalyticsStore({ url: undefined, chdbPath: join(temp.dir, "chdb"), database });
    await temp.store.init();
  });
  afterAll(async () => {
    await temp.store?.close();
    if (temp.dir) await rm(temp.dir, { recursive: true, force: true });
  });
  return temp;
};
