import type { JetStreamClient } from "@nats-io/jetstream";
import { Unavailable } from "../core/errors.js";
import { chunkRows, type ProjectionRows } from "./rows.js";

const MAX_MESSAGE_BYTES = 512 * 1024;

/** Where workers put projection rows: durable in JetStream before the ingest batch is acked. */
export type ProjectionSink = (rows: ProjectionRows, stepId: string) => Promise<void>;

/**
 * Publishes a step's rows. Message ids derive from the step, so a step redone after a
 * failure is dropped by JetStream's duplicate window instead of being written twice
 * (the store would replace the rows anyway; this only saves the work).
 */
export const jetstreamProjectionSink =
  (js: JetStreamClient, subject: string): ProjectionSink =>
  async (rows, stepId) => {
    const chunks = chunkRows(rows, MAX_MESSAGE_BYTES);
    try {
      await Promise.all(chunks.map((payload, i) => js.publish(subject, payload, { msgID: `${stepId}:${i}` })));
    } catch (e) {
      throw new Unavailable("projection_unavailable", `projection rows were not stored: ${(e as Error).message}`, 1, { cause: e });
    }
  };
