import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolveJavaHome, startElasticsearch } from "../../test/services/elasticsearch.js";
import { findByCmdline, treeOf } from "../observe/procs.js";

/**
 * Elasticsearch for the bench, started the way the tests start it (test/services/elasticsearch.ts):
 * the integ-test-zip that `make elasticsearch` fetched, on a free 127.0.0.1 port, data in a
 * temporary folder.
 */
export interface BenchElasticsearch {
  readonly url: string;
  readonly version: string;
  /** The launcher JVM and the server JVM it forks. */
  readonly pids: () => number[];
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** The ES home: the last stdout line of the provisioning script (idempotent; fast once fetched). */
export const elasticsearchHome = (): string => {
  const out = execFileSync("bash", ["infra/provision/elasticsearch.sh"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const home = out.trim().split("\n").pop();
  if (!home) throw new Error("infra/provision/elasticsearch.sh printed no ES home");
  return home;
};

export const startBenchElasticsearch = async (): Promise<BenchElasticsearch> => {
  const home = elasticsearchHome();
  const es = await startElasticsearch({ home, javaHome: await resolveJavaHome() });
  const port = new URL(es.url).port;
  // The launcher's command line names the HTTP port and the node's private folder; the server JVM shares that folder.
  const launcher = findByCmdline(`-Ehttp.port=${port}`)[0];
  const folder = launcher ? /-Epath\.data=(\S+)\/data/.exec(readFileSync(`/proc/${launcher}/cmdline`, "utf8").replace(/\0/g, " "))?.[1] : undefined;
  const set = new Set<number>();
  if (launcher) for (const p of treeOf(launcher)) set.add(p);
  if (folder) for (const p of findByCmdline(folder)) set.add(p);
  const found = [...set];
  const pids = (): number[] => found;
  // The integ-test-zip answers GET / with 405; the version is in the home folder's name.
  const version = /elasticsearch-([\d.]+)$/.exec(home)?.[1] ?? "unknown";
  return { url: es.url, version, pids, stop: es.stop };
};
