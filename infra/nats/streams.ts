import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";

const ns = (ms: number): number => ms * 1_000_000;

/** Names of everything Pulse keeps in NATS, derived from one namespace so test runs never collide. */
export interface NatsNames {
  readonly ingestStream: string;
  readonly ingestSubject: (partition: number) => string;
  readonly ingestConsumer: string;
  readonly logStream: string;
  readonly logSubjectPrefix: string;
}

export const natsNames = (namespace: string): NatsNames => ({
  ingestStream: `${namespace}_ingest`,
  ingestSubject: (p) => `${namespace}.ingest.${p}`,
  ingestConsumer: `${namespace}_worker`,
  logStream: `${namespace}_log`,
  logSubjectPrefix: `${namespace}.log`,
});

/**
 * The ingest stream holds edge batches until a worker has logged and projected them.
 * Work-queue retention: an acked batch is removed, so the stream's size is the backlog.
 */
export const ensureIngestStream = async (jsm: JetStreamManager, names: NatsNames, namespace: string): Promise<void> => {
  const config = {
    name: names.ingestStream,
    subjects: [`${namespace}.ingest.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // Batch ids dedupe publish retries from the edge; a retry comes within seconds.
    duplicate_window: ns(120_000),
  };
  try {
    await jsm.streams.info(names.ingestStream);
  } catch {
    await jsm.streams.add(config);
  }
  try {
    await jsm.consumers.info(names.ingestStream, names.ingestConsumer);
  } catch {
    await jsm.consumers.add(names.ingestStream, {
      durable_name: names.ingestConsumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // A batch not acked within this time is redelivered: long enough for a slow sink, short enough to recover from a crash.
      ack_wait: ns(30_000),
      max_ack_pending: 20_000,
    });
  }
};

/** The embedded event log: one subject per visitor, kept forever. */
export const ensureLogStream = async (jsm: JetStreamManager, names: NatsNames, dedupeWindowMs: number): Promise<void> => {
  try {
    await jsm.streams.info(names.logStream);
  } catch {
    await jsm.streams.add({
      name: names.logStream,
      subjects: [`${names.logSubjectPrefix}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: ns(dedupeWindowMs),
      allow_direct: true,
    });
  }
};
