import type { JetStreamManager } from "@nats-io/jetstream";
import type { ReadQueues } from "../../src/query/live/hub.js";
import type { NatsNames } from "./streams.js";

/** Progress of the ingest and projection work queues for the watermark: ingest first, then projection. */
export const readQueueStates =
  (jsm: JetStreamManager, names: NatsNames): ReadQueues =>
  async () => {
    const ingest = (await jsm.streams.info(names.ingestStream)).state;
    const projection = (await jsm.streams.info(names.projectionStream)).state;
    return {
      ingest: { first: ingest.first_seq, last: ingest.last_seq, messages: ingest.messages },
      projection: { first: projection.first_seq, last: projection.last_seq, messages: projection.messages },
    };
  };
