import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { resolveJavaHome, startElasticsearch } from "./elasticsearch.js";
import type { Services } from "./types.js";

/** Starts nats-server and Elasticsearch as local processes on free 127.0.0.1 ports, data in temp folders. */
export const startLocalServices = async (elasticsearchHome: string): Promise<Services> => {
  const natsDir = await mkdtemp(join(tmpdir(), "pulse-test-nats-"));
  const nats = await startLocalNats(natsDir);
  try {
    const es = await startElasticsearch({ home: elasticsearchHome, javaHome: await resolveJavaHome() });
    return {
      natsUrl: nats.url,
      elasticsearchUrl: es.url,
      stop: async () => {
        await Promise.allSettled([es.stop(), nats.stop()]);
        await rm(natsDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await nats.stop();
    await rm(natsDir, { recursive: true, force: true });
    throw e;
  }
};
