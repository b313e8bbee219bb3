import { execFile } from "node:child_process";
import type { Services } from "./types.js";

/** True when a Docker engine answers; then tests use container images instead of local processes. */
export const dockerEngineAnswers = (): Promise<boolean> =>
  new Promise((resolve) => {
    execFile("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5_000 }, (err) => resolve(!err));
  });

export const startContainers = async (): Promise<Services> => {
  // Loaded only where a Docker engine answers, so runs without one never load its client.
  const { GenericContainer, Wait } = await import("testcontainers");
  const nats = await new GenericContainer("nats:2.10-alpine").withCommand(["-js"]).withExposedPorts(4222).withWaitStrategy(Wait.forLogMessage(/Server is ready/)).start();
  const es = await new GenericContainer("docker.elastic.co/elasticsearch/elasticsearch:9.2.0")
    .withEnvironment({ "discovery.type": "single-node", "xpack.security.enabled": "false", ES_JAVA_OPTS: "-Xms512m -Xmx512m" })
    .withExposedPorts(9200)
    .withWaitStrategy(Wait.forHttp("/_cluster/health?wait_for_status=yellow", 9200))
    .withStartupTimeout(180_000)
    .start();
  return {
    natsUrl: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    elasticsearchUrl: `http://${es.getHost()}:${es.getMappedPort(9200)}`,
    stop: async () => {
      await Promise.all([nats.stop(), es.stop()]);
    },
  };
};
