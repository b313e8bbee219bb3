import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openAnalyticsStore } from "./store.js";

it("gives chDB's caches the size it is told, and works as usual with them", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pulse-chdb-cache-"));
  const store = await openAnalyticsStore({ url: undefined, chdbPath: join(dir, "chdb"), database: "cache_test", chdbCacheBytes: 64 * 1024 * 1024 });
  try {
    await store.init();
    const rows = await store.query<{ name: string; value: string }>(
      `SELECT name, value FROM system.server_settings WHERE name IN ('mark_cache_size', 'primary_index_cache_size', 'index_mark_cache_size') ORDER BY name`,
      {},
    );
    expect(rows).toEqual([
      { name: "index_mark_cache_size", value: String(16 * 1024 * 1024) },
      { name: "mark_cache_size", value: String(32 * 1024 * 1024) },
      { name: "primary_index_cache_size", value: String(16 * 1024 * 1024) },
    ]);
    await store.command(`CREATE TABLE cache_test.t (n UInt32) ENGINE = MergeTree ORDER BY n`, {});
    await store.insert("t", [{ n: 1 }, { n: 2 }]);
    expect(await store.query<{ c: number }>(`SELECT toUInt32(count()) AS c FROM cache_test.t`, {})).toEqual([{ c: 2 }]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
