import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { join } from "node:path";
import type { PulseConfig } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import type { LogScanner } from "../../infra/eventlog/scan.js";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { jetstreamLogScanner } from "../../infra/nats/log-scan.js";
import type { NatsNames } from "../../infra/nats/streams.js";

/** A scanner over the chosen log backend; `close` also closes the log it reads visitors from. */
export const openScanner = async (source: "elasticsearch" | "jetstream", config: PulseConfig, js: JetStreamClient, jsm: JetStreamManager, names: NatsNames): Promise<LogScanner> => {
  if (source === "jetstream") {
    const log = jetstreamEventLog(js, jsm, names, 48 * 3_600_000);
    return jetstreamLogScanner(js, jsm, names, log, join(config.dataDir, "rebuild"));
  }
  if (!config.elasticsearchUrl) throw new ConfigError("--source es needs PULSE_ELASTICSEARCH_URL");
  const { elasticsearchEventLog } = await import("../../infra/elasticsearch/eventlog.js");
  const { elasticsearchLogScanner } = await import("../../infra/elasticsearch/log-scan.js");
  const log = elasticsearchEventLog(config.elasticsearchUrl, config.namespace);
  const scanner = elasticsearchLogScanner(config.elasticsearchUrl, config.namespace, log);
  return {
    ...scanner,
    close: async () => {
      await scanner.close();
      await log.close();
    },
  };
};
