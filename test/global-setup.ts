import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { dockerEngineAnswers, startContainers } from "./services/containers.js";
import { startLocalServices } from "./services/local.js";
import type { Services } from "./services/types.js";

declare module "vitest" {
  export interface ProvidedContext {
    natsUrl: string;
    elasticsearchUrl: string;
  }
}

const ES_HOME = join(process.cwd(), ".cache", "elasticsearch", "elasticsearch-9.2.0");

/**
 * Starts the real services once per run: container images where a Docker engine answers,
 * else local processes provisioned by `make test` (infra/provision/*.sh).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let services: Services;
  if (process.env["PULSE_TEST_DOCKER"] !== "0" && (await dockerEngineAnswers())) services = await startContainers();
  else {
    if (!existsSync(ES_HOME)) throw new Error(`Elasticsearch is not provisioned at ${ES_HOME}; run \`make test\` or infra/provision/elasticsearch.sh`);
    services = await startLocalServices(ES_HOME);
  }
  project.provide("natsUrl", services.natsUrl);
  project.provide("elasticsearchUrl", services.elasticsearchUrl);
  return services.stop;
}
