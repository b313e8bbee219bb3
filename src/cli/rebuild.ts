import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createInbox, RequestError, type NatsConnection } from "@nats-io/transport-node";
import { join } from "node:path";
import type { PulseConfig } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import { SiteRegistry } from "../../infra/nats/registry.js";
import { natsNames } from "../../infra/nats/streams.js";
import { parseRebuildArgs, REBUILD_HELP } from "../rebuild/args.js";
import { progressLine, type RebuildNews } from "../rebuild/progress.js";
import type { RebuildOutcome } from "../rebuild/run.js";
import { rebuildIn, rebuildSubjects, rollbackIn, type JobMessage } from "../rebuild/service.js";
import { projectionStatus } from "../rebuild/status.js";
import { restoreActiveVersion } from "../rebuild/versions.js";
import { openNats } from "./admin.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Progress on stderr: one bar redrawn in place on a terminal, a line a second otherwise. */
const renderer = (): { tell: (news: RebuildNews) => void; end: () => void } => {
  const tty = process.stderr.isTTY;
  let last = 0;
  let drawn = false;
  return {
    tell(news) {
      if (news.type === "log") {
        process.stderr.write(`${drawn ? "\n" : ""}pulse rebuild: ${news.line}\n`);
        drawn = false;
        return;
      }
      if (!tty && Date.now() - last < 1_000) return;
      last = Date.now();
      if (tty) {
        process.stderr.write(`\r${progressLine(news)}\u001b[K`);
        drawn = true;
      } else process.stderr.write(`${progressLine(news)}\n`);
    },
    end() {
      if (drawn) process.stderr.write("\n");
    },
  };
};

const summary = (o: RebuildOutcome): string =>
  o.kind === "dry-run" ? o.report : `rebuilt version ${o.version} (${o.database}): ${o.events} events, ${o.sessions} sessions in ${o.seconds.toFixed(1)} s (${Math.round(o.events / Math.max(o.seconds, 0.001))} events/s); it is active now`;

/** Asks the running store process, if there is one; undefined when no Pulse answers. */
const ask = async (nc: NatsConnection, subject: string, body: unknown): Promise<{ ok: boolean; error?: string; text?: string } | undefined> => {
  try {
    const m = await nc.request(subject, encoder.encode(JSON.stringify(body)), { timeout: 10_000 });
    return JSON.parse(decoder.decode(m.data)) as { ok: boolean; error?: string; text?: string };
  } catch (e) {
    if (e instanceof RequestError && e.isNoResponders()) return undefined;
    throw new ConfigError(`the running Pulse did not answer: ${(e as Error).message}`);
  }
};

/** No Pulse runs: this process owns the analytics store for the time of the command. */
const withOwnStore = async <T>(config: PulseConfig, nc: NatsConnection, body: (deps: Parameters<typeof rebuildIn>[0]) => Promise<T>): Promise<T> => {
  const { openAnalyticsStore } = await import("../../infra/clickhouse/store.js");
  const store = await openAnalyticsStore({ url: config.clickhouseUrl, chdbPath: join(config.dataDir, "chdb"), database: config.namespace });
  const names = natsNames(config.namespace);
  const registry = await SiteRegistry.open(nc, names.registryBucket);
  try {
    await store.init();
    await restoreActiveVersion(store, config.namespace);
    return await body({ js: jetstream(nc), jsm: await jetstreamManager(nc), names, config, store, registry, say: () => undefined, live: false });
  } finally {
    registry.close();
    await store.close();
  }
};

/** `pulse rebuild …`; returns the exit code. */
export const runRebuildCommand = async (config: PulseConfig, argv: readonly string[]): Promise<number> => {
  const command = parseRebuildArgs(argv, config.elasticsearchUrl ? "elasticsearch" : "jetstream");
  if (command.kind === "help") {
    print(REBUILD_HELP);
    return 0;
  }
  if (command.kind === "rebuild" && command.args.source === "elasticsearch" && !config.elasticsearchUrl) throw new ConfigError("--source es needs PULSE_ELASTICSEARCH_URL");
  const { nc, close } = await openNats(config);
  const subjects = rebuildSubjects(config.namespace);
  const view = renderer();
  try {
    if (command.kind === "rollback") {
      const answer = await ask(nc, subjects.rollback, {});
      if (answer && !answer.ok) throw new ConfigError(answer.error ?? "rollback failed");
      print(answer?.text ?? (await withOwnStore(config, nc, rollbackIn)));
      return 0;
    }
    const progress = createInbox();
    const sub = nc.subscribe(progress);
    const answer = await ask(nc, subjects.run, { args: command.args, progress });
    if (answer === undefined) {
      sub.unsubscribe();
      view.tell({ type: "log", line: "no running Pulse answered; rebuilding in this process" });
      const outcome = await withOwnStore(config, nc, (d) => rebuildIn(d, command.args, view.tell));
      view.end();
      print(summary(outcome));
      return 0;
    }
    if (!answer.ok) throw new ConfigError(answer.error ?? "the running Pulse refused the rebuild");
    view.tell({ type: "log", line: "the running Pulse is rebuilding; progress follows" });
    for await (const m of sub) {
      const msg = JSON.parse(decoder.decode(m.data)) as JobMessage;
      if (msg.type === "done") {
        view.end();
        print(summary(msg.outcome));
        return 0;
      }
      if (msg.type === "failed") {
        view.end();
        throw new ConfigError(`rebuild failed: ${msg.message}`);
      }
      view.tell(msg);
    }
    return 1;
  } finally {
    await close();
  }
};

/** `pulse status`: projection versions and the rules each was built with. */
export const runStatusCommand = async (config: PulseConfig): Promise<number> => {
  const { nc, close } = await openNats(config);
  try {
    const answer = await ask(nc, rebuildSubjects(config.namespace).status, {});
    if (answer && !answer.ok) throw new ConfigError(answer.error ?? "status failed");
    print(answer?.text ?? (await withOwnStore(config, nc, (d) => projectionStatus(d.store, config.namespace))));
    return 0;
  } finally {
    await close();
  }
};
