import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { Signal } from "../core/signal.js";
import { StoreError } from "../core/errors.js";
import { RollupRefresher } from "./rollups.js";
import { readRowsMessage } from "./rows.js";

export interface ProjectionWriter {
  /** Rows inserted so far. */
  readonly inserted: () => number;
  /** Whether the site has rows inserted that its rollups do not reflect yet (reports then read the raw tables). */
  readonly rollupsBehind: (site: string) => boolean;
  /** Stops pulling, inserts and acks what was already delivered. */
  stop(): Promise<void>;
}

export interface WriterOptions {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly consumer: string;
  readonly store: AnalyticsStore;
  /** Rows per insert: ClickHouse wants few, large inserts. */
  readonly maxRows: number;
  /** Inserts start at most this often, unless maxRows are waiting; also the longest a row waits once the insert before it is done. */
  readonly maxDelayMs: number;
  /** How often touched hours of the rollups are recomputed. */
  readonly rollupIntervalMs: number;
  readonly report: (message: string, error?: unknown) => void;
  /** Told of each arriving message, and after each successful insert which sites it wrote (see LiveQueries). */
  readonly live?: WriterListener;
  /** Recompute every hour's rollups (they were made again by a schema migration); reports read the raw tables meanwhile. */
  readonly recomputeRollups?: boolean;
}

export interface WriterListener {
  arrived(): void;
  /** `arrivedBy`: when the newest message of the insert had arrived, or later. */
  flushed(sites: ReadonlySet<string>, arrivedBy: number): void;
}

/**
 * The one writer of the analytics store: gathers projection messages into large
 * inserts, then acks them. Rows replace earlier versions of themselves, so a
 * redelivered message changes nothing.
 */
export const startProjectionWriter = async (o: WriterOptions): Promise<ProjectionWriter> => {
  const consumer = await o.js.consumers.get(o.stream, o.consumer);
  const buffer: JsMsg[] = [];
  const arrived = new Signal();
  let running = true;
  let inserted = 0;
  let lastArrival = 0;
  // When the newest message whose rows are inserted had arrived: what a rollup refresh started now covers.
  let insertedArrivedBy = 0;
  const messages = await consumer.consume({
    max_messages: 2000,
    callback: (m) => {
      buffer.push(m);
      lastArrival = Date.now();
      o.live?.arrived();
      arrived.notify();
    },
  });

  const flush = async (batch: JsMsg[]): Promise<void> => {
    const arrivedBy = lastArrival;
    // Rows arrive as text and go to the store as they are: no parse, no second encoding.
    const messages = batch.map((m) => readRowsMessage(m.data));
    try {
      // One format in practice; messages of an older build may still be in the stream after an upgrade.
      for (const format of new Set(messages.map((r) => r.format))) {
        const these = messages.filter((r) => r.format === format);
        await o.store.insertEncoded("events", format, Buffer.concat(these.map((r) => r.events)));
        await o.store.insertEncoded("sessions", format, Buffer.concat(these.map((r) => r.sessions)));
      }
    } catch (e) {
      o.report("projection insert failed; will retry", e);
      for (const m of batch) m.nak(e instanceof StoreError && !e.retryable ? 10_000 : 1_000);
      return;
    }
    for (const m of batch) m.ack();
    const sites = new Set<string>();
    for (const r of messages) {
      inserted += r.rows;
      rollups.touch(r.hours);
      for (const [site] of r.hours) sites.add(site);
    }
    insertedArrivedBy = arrivedBy;
    o.live?.flushed(sites, arrivedBy);
  };

  // Older generations are deleted every few seconds rather than after each refresh: the deletes cost as much as the refresh.
  // Daily rows once a minute: today's change every second, and reports read a day's hours meanwhile.
  // In-process, a refresh shares the machine's cores with the pipeline: one thread leaves the others to inserts and reports.
  const rollups = new RollupRefresher(o.store, { collectEveryMs: 10_000, daysEveryMs: 60_000, ...(o.store.engine === "chdb" ? { maxThreads: 1 } : {}) });
  if (o.recomputeRollups) o.report(`recomputing the rollups of ${await rollups.touchAll()} hours`);
  let refreshing: Promise<void> | undefined;
  // Under steady traffic every second has hours to refresh, and a refresh of many busy hours can take
  // longer than that: back to back they would keep a core busy that the edge and the workers need
  // (ack latency). After a refresh, a pause as long as it took: at most half a core on average.
  // Reports read the raw tables meanwhile (rollupsBehind), so answers stay complete.
  let nextRefreshAt = 0;
  const refreshTimer = setInterval(() => {
    // A refresh slower than the interval is not queued behind itself: the next one takes all hours touched meanwhile.
    if (rollups.pending === 0 || refreshing || Date.now() < nextRefreshAt) return;
    const coveredBy = insertedArrivedBy;
    const started = Date.now();
    refreshing = rollups
      .refresh()
      // Reports read the rollups where they can, so subscriptions look again once they changed.
      .then((sites) => o.live?.flushed(sites, coveredBy))
      .catch((e: unknown) => o.report("rollup refresh failed; will retry", e))
      .finally(() => {
        refreshing = undefined;
        nextRefreshAt = Date.now() + (Date.now() - started);
      });
  }, o.rollupIntervalMs);

  const rowsIn = (m: JsMsg): number => Math.max(1, Math.round(m.data.length / 300));
  let lastInsert = 0;
  const loop = (async () => {
    while (running || buffer.length > 0) {
      if (buffer.length === 0) {
        await arrived.wait();
        continue;
      }
      // Inserts start at most once per maxDelayMs, unless enough rows are here: under steady traffic each takes
      // what came since the last, while rows after a quiet spell go in at once instead of waiting for company.
      const due = lastInsert + o.maxDelayMs;
      while (running && buffer.reduce((n, m) => n + rowsIn(m), 0) < o.maxRows && Date.now() < due) {
        await new Promise((r) => setTimeout(r, Math.min(10, due - Date.now())));
      }
      lastInsert = Date.now();
      let rows = 0;
      let take = 0;
      while (take < buffer.length && rows < o.maxRows) rows += rowsIn(buffer[take++] as JsMsg);
      await flush(buffer.splice(0, take));
    }
  })();

  return {
    inserted: () => inserted,
    rollupsBehind: (site) => rollups.behind(site),
    async stop() {
      running = false;
      await messages.close();
      arrived.notify();
      await loop;
      clearInterval(refreshTimer);
      await refreshing;
      // The days too, so that a restart finds them made.
      await rollups.refresh(true).catch((e: unknown) => o.report("rollup refresh failed at stop", e));
    },
  };
};
