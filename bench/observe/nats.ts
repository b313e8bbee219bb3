import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

/**
 * Consumer lag of a running Pulse, read from NATS: for every consumer of the ingest stream
 * (one per partition) and of the projection stream, num_pending + num_ack_pending, and the
 * message count of those work-queue streams (what the workers and the store writer have
 * not finished). Both at zero means every stored batch is logged and in the store.
 */

export interface LagSample {
  readonly t: number;
  /** Ingest batches not yet acked by a worker (consumer num_pending + num_ack_pending, summed). */
  readonly ingestLag: number;
  /** Ingest stream messages: batches stored and not yet processed. */
  readonly ingestMessages: number;
  /** Ingest stream last sequence: batches published since the stream was made. */
  readonly ingestLastSeq: number;
  /** Projection messages not yet inserted by the store writer. */
  readonly projectionLag: number;
  readonly logMessages: number;
}

export interface LagWatch {
  readonly samples: LagSample[];
  latest(): LagSample | undefined;
  /** Waits until ingest and projection are both empty; resolves with the time it took, or -1 on timeout. */
  waitDrained(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

const streamLag = async (jsm: JetStreamManager, stream: string): Promise<{ lag: number; messages: number; lastSeq: number }> => {
  try {
    const info = await jsm.streams.info(stream);
    let lag = 0;
    for await (const c of jsm.consumers.list(stream)) lag += c.num_pending + c.num_ack_pending;
    return { lag: Math.max(lag, info.state.messages), messages: info.state.messages, lastSeq: info.state.last_seq };
  } catch {
    return { lag: 0, messages: 0, lastSeq: 0 };
  }
};

const streamMessages = async (jsm: JetStreamManager, stream: string): Promise<number> => {
  try {
    return (await jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  }
};

export const watchLag = async (natsUrl: string, namespace: string, everyMs = 250): Promise<LagWatch> => {
  const nc: NatsConnection = await connect({ servers: natsUrl, name: "pulse-bench" });
  const jsm = await jetstreamManager(nc);
  const samples: LagSample[] = [];
  const sample = async (): Promise<LagSample> => {
    const [ingest, projection, logMessages] = await Promise.all([
      streamLag(jsm, `${namespace}_ingest`),
      streamLag(jsm, `${namespace}_projection`),
      streamMessages(jsm, `${namespace}_log`),
    ]);
    const s: LagSample = {
      t: Date.now(),
      ingestLag: ingest.lag,
      ingestMessages: ingest.messages,
      ingestLastSeq: ingest.lastSeq,
      projectionLag: projection.lag,
      logMessages,
    };
    samples.push(s);
    return s;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sample()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  return {
    samples,
    latest: () => samples[samples.length - 1],
    async waitDrained(timeoutMs) {
      const started = Date.now();
      // Two clean samples in a row: a batch may be between the ingest ack and its projection publish.
      let clean = 0;
      while (Date.now() - started < timeoutMs) {
        const s = await sample();
        clean = s.ingestLag === 0 && s.projectionLag === 0 ? clean + 1 : 0;
        if (clean >= 2) return Date.now() - started;
        await new Promise((r) => setTimeout(r, 100));
      }
      return -1;
    },
    async close() {
      clearInterval(timer);
      await nc.close();
    },
  };
};
