import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";

const ns = (ms: number): number => ms * 1_000_000;

/** Names of everything Pulse keeps in NATS, derived from one namespace so test runs never collide. */
export interface NatsNames {
  readonly ingestStream: string;
  readonly ingestSubject: (partition: number) => string;
  readonly partitionConsumer: (partition: number) => string;
  readonly logStream: string;
  readonly logSubjectPrefix: string;
  readonly projectionStream: string;
  readonly projectionSubject: string;
  readonly projectionConsumer: string;
  readonly leaseBucket: string;
  readonly registryBucket: string;
}

export const natsNames = (namespace: string): NatsNames => ({
  ingestStream: `${namespace}_ingest`,
  ingestSubject: (p) => `${namespace}.ingest.${p}`,
  partitionConsumer: (p) => `${namespace}_worker_p${p}`,
  logStream: `${namespace}_log`,
  logSubjectPrefix: `${namespace}.log`,
  projectionStream: `${namespace}_projection`,
  projectionSubject: `${namespace}.projection`,
  projectionConsumer: `${namespace}_writer`,
  leaseBucket: `${namespace}_leases`,
  registryBucket: `${namespace}_registry`,
});

// A message not acked within this time is redelivered. It bounds how long a dead worker's
// in-flight batches wait before its successor sees them, so keep it well above one step.
const ACK_WAIT_MS = 10_000;

const ensureStream = async (jsm: JetStreamManager, name: string, config: Parameters<JetStreamManager["streams"]["add"]>[0]): Promise<void> => {
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add(config);
  }
};

const ensureConsumer = async (jsm: JetStreamManager, stream: string, durable: string, filter: string, maxAckPending: number): Promise<void> => {
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ns(ACK_WAIT_MS),
      max_ack_pending: maxAckPending,
    });
  }
};

/**
 * The ingest stream holds edge batches until a worker has logged and projected them.
 * Work-queue retention: an acked batch is removed, so the stream's size is the backlog.
 */
export const ensureIngestStream = (jsm: JetStreamManager, names: NatsNames, namespace: string): Promise<void> =>
  ensureStream(jsm, names.ingestStream, {
    name: names.ingestStream,
    subjects: [`${namespace}.ingest.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // Batch ids dedupe publish retries from the edge; a retry comes within seconds.
    duplicate_window: ns(120_000),
  });

/**
 * One durable consumer per partition, so whoever holds the partition's lease resumes exactly where the last owner stopped.
 * The server stops delivering at max_ack_pending unacked batches: that, not the client's pull size, is what bounds a
 * worker's buffered batches (up to 512 KiB each), since the client keeps pulling while its callback only queues them.
 */
export const ensurePartitionConsumer = (jsm: JetStreamManager, names: NatsNames, partition: number): Promise<void> =>
  ensureConsumer(jsm, names.ingestStream, names.partitionConsumer(partition), names.ingestSubject(partition), 32);

/**
 * Projection rows travel from workers to the one process that owns the analytics store
 * (chDB allows one owner per data directory), which inserts them in large batches.
 */
export const ensureProjectionStream = async (jsm: JetStreamManager, names: NatsNames): Promise<void> => {
  await ensureStream(jsm, names.projectionStream, {
    name: names.projectionStream,
    subjects: [names.projectionSubject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: ns(120_000),
  });
  // Messages are up to 512 KiB: this bounds what the writer holds before its insert acks them.
  await ensureConsumer(jsm, names.projectionStream, names.projectionConsumer, names.projectionSubject, 256);
};

/** The embedded event log: one subject per visitor, kept forever. */
export const ensureLogStream = (jsm: JetStreamManager, names: NatsNames, dedupeWindowMs: number): Promise<void> =>
  ensureStream(jsm, names.logStream, {
    name: names.logStream,
    subjects: [`${names.logSubjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: ns(dedupeWindowMs),
    allow_direct: true,
  });
