import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@elastic/elasticsearch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveJavaHome, startElasticsearch } from "./elasticsearch.js";

const PROVISION_SCRIPT = fileURLToPath(new URL("../../infra/provision/elasticsearch.sh", import.meta.url));
const TIMEOUT_MS = 180_000;

/** The script is idempotent and prints the ES home as its last stdout line. */
async function provisionElasticsearch(): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [PROVISION_SCRIPT], { timeout: TIMEOUT_MS });
  const home = stdout.trim().split("\n").pop();
  if (home === undefined || home === "") throw new Error("provision script printed no Elasticsearch home");
  return home;
}

describe("startElasticsearch", () => {
  let es: Awaited<ReturnType<typeof startElasticsearch>> | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    const [home, javaHome] = await Promise.all([provisionElasticsearch(), resolveJavaHome()]);
    es = await startElasticsearch({ home, javaHome });
    client = new Client({ node: es.url });
  }, TIMEOUT_MS);

  afterAll(async () => {
    await client?.close();
    await es?.stop();
  }, TIMEOUT_MS);

  it(
    "serves a single-node cluster that indexes and counts a document",
    async () => {
      if (client === undefined || es === undefined) throw new Error("Elasticsearch did not start");
      expect(es.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const index = "pulse-starter-check";
      await client.index({ index, id: "starter-doc-1", document: { kind: "probe", at: "2025-01-01T00:00:00Z" } });
      // Same _id again: must overwrite, not add.
      await client.index({ index, id: "starter-doc-1", document: { kind: "probe", at: "2025-01-01T00:00:01Z" } });
      await client.indices.refresh({ index });

      const { count } = await client.count({ index });
      expect(count).toBe(1);
    },
    TIMEOUT_MS,
  );
});
