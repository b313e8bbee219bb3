import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection, Msg } from "@nats-io/transport-node";
import type { PulseConfig } from "../config/config.js";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import type { SiteRegistry } from "../../infra/nats/registry.js";
import type { NatsNames } from "../../infra/nats/streams.js";
import type { RebuildNews } from "./progress.js";
import { rollback, runRebuild, type RebuildArgs, type RebuildOutcome } from "./run.js";
import { openScanner } from "./sources.js";
import { projectionStatus } from "./status.js";

/** NATS subjects of the rebuild service, answered by the process that owns the analytics store. */
export const rebuildSubjects = (namespace: string): { run: string; rollback: string; status: string } => ({
  run: `${namespace}.rebuild.run`,
  rollback: `${namespace}.rebuild.rollback`,
  status: `${namespace}.rebuild.status`,
});

/** What the service sends on a job's progress subject: news, then one `done` or `failed`. */
export type JobMessage = RebuildNews | { readonly type: "done"; readonly outcome: RebuildOutcome } | { readonly type: "failed"; readonly message: string };

export interface RebuildServiceDeps {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly config: PulseConfig;
  readonly store: AnalyticsStore;
  readonly registry: SiteRegistry;
  readonly say: (line: string) => void;
  /** A live writer runs beside the rebuild (the store role of \`pulse start\`). */
  readonly live: boolean;
}

const DRAIN_LIMIT_MS = 60_000;

/** Waits until the writer has acked every projection message published so far, or a minute has passed. */
const projectionsDrained = async (jsm: JetStreamManager, names: NatsNames): Promise<void> => {
  const last = (await jsm.streams.info(names.projectionStream)).state.last_seq;
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  while (Date.now() < deadline) {
    const info = await jsm.consumers.info(names.projectionStream, names.projectionConsumer);
    if (info.ack_floor.stream_seq >= last) return;
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Everything a rebuild needs in the process that owns the store, whoever asked for it. */
export const rebuildIn = async (d: Omit<RebuildServiceDeps, "nc">, args: RebuildArgs, tell: (news: RebuildNews) => void, cancelled?: () => boolean): Promise<RebuildOutcome> => {
  const scanner = await openScanner(args.source, d.config, d.js, d.jsm, d.names);
  try {
    return await runRebuild(
      {
        store: d.store,
        namespace: d.config.namespace,
        scanner,
        timeoutOf: (site) => d.registry.site(site)?.sessionTimeoutMs ?? d.config.sessionTimeoutMs,
        keyEvents: new Set(d.config.keyEvents),
        timeouts: () => registryTimeouts(d.registry),
        setTimeouts: (t) => setRegistryTimeouts(d.registry, t),
        tell,
        ...(cancelled ? { cancelled } : {}),
        ...(d.live ? { projectionsDrained: () => projectionsDrained(d.jsm, d.names) } : {}),
      },
      args,
    );
  } finally {
    await scanner.close();
  }
};

/** `pulse rebuild --rollback` in the process that owns the store; reads the configured log to catch up. */
export const rollbackIn = async (d: Omit<RebuildServiceDeps, "nc">): Promise<string> => {
  const scanner = await openScanner(d.config.elasticsearchUrl ? "elasticsearch" : "jetstream", d.config, d.js, d.jsm, d.names);
  try {
    return await rollback({
      store: d.store,
      namespace: d.config.namespace,
      scanner,
      timeoutOf: (site) => d.registry.site(site)?.sessionTimeoutMs ?? d.config.sessionTimeoutMs,
      keyEvents: new Set(d.config.keyEvents),
      setTimeouts: (t) => setRegistryTimeouts(d.registry, t),
    });
  } finally {
    await scanner.close();
  }
};

const registryTimeouts = (registry: SiteRegistry): Record<string, number> => Object.fromEntries(registry.list().map((s) => [s.id, s.sessionTimeoutMs]));

export const setRegistryTimeouts = async (registry: SiteRegistry, timeouts: Readonly<Record<string, number>>): Promise<void> => {
  for (const [site, ms] of Object.entries(timeouts)) await registry.setSessionTimeout(site, ms);
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serves `pulse rebuild` and `pulse status` for CLIs while Pulse runs: one rebuild at a time,
 * its progress published on the subject the CLI named. A CLI that goes away does not stop the
 * rebuild; running the same command again later finds it finished or resumes its checkpoint.
 */
export const startRebuildService = (d: RebuildServiceDeps): { stop: () => Promise<void> } => {
  const subjects = rebuildSubjects(d.config.namespace);
  let running: Promise<unknown> | undefined;
  let stopping = false;
  const reply = (m: Msg, body: unknown): void => {
    m.respond(encoder.encode(JSON.stringify(body)));
  };
  const subs = [
    d.nc.subscribe(subjects.run, {
      callback: (_err, m) => {
        const { args, progress } = JSON.parse(decoder.decode(m.data)) as { args: RebuildArgs; progress: string };
        if (running) return reply(m, { ok: false, error: "a rebuild is already running in this Pulse" });
        reply(m, { ok: true });
        const publish = (msg: JobMessage): void => d.nc.publish(progress, encoder.encode(JSON.stringify(msg)));
        d.say(`rebuild started: ${JSON.stringify(args)}`);
        running = rebuildIn(d, args, publish, () => stopping)
          .then(
            (outcome) => {
              d.say(`rebuild finished: ${JSON.stringify(outcome).slice(0, 300)}`);
              publish({ type: "done", outcome });
            },
            (e: unknown) => {
              d.say(`rebuild failed: ${(e as Error).message}`);
              publish({ type: "failed", message: (e as Error).message });
            },
          )
          .finally(() => (running = undefined));
      },
    }),
    d.nc.subscribe(subjects.rollback, {
      callback: (_err, m) => {
        if (running) return reply(m, { ok: false, error: "a rebuild is running; roll back after it" });
        rollbackIn(d).then(
          (text) => reply(m, { ok: true, text }),
          (e: unknown) => reply(m, { ok: false, error: (e as Error).message }),
        );
      },
    }),
    d.nc.subscribe(subjects.status, {
      callback: (_err, m) => {
        projectionStatus(d.store, d.config.namespace).then(
          (text) => reply(m, { ok: true, text }),
          (e: unknown) => reply(m, { ok: false, error: (e as Error).message }),
        );
      },
    }),
  ];
  return {
    async stop() {
      stopping = true;
      for (const s of subs) s.unsubscribe();
      await running;
    },
  };
};
