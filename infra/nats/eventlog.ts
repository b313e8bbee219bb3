import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { compareEvents, type PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import { stableId } from "../../src/core/hash.js";
import type { EventLog } from "../eventlog/port.js";
import { siteToken, visitorSubject } from "../eventlog/subject.js";
import { ensureLogStream, type NatsNames } from "./streams.js";

const decoder = new TextDecoder();
const PUBLISH_WINDOW = 1000;

/**
 * The embedded event log: a JetStream stream, one subject per visitor, so a visitor's
 * history is one filtered read. JetStream stores about 10k messages a second here, so an
 * append stores each visitor's slice as one message. Its Nats-Msg-Id derives from the
 * event ids, so the same append repeated is dropped; an event that still arrives twice
 * in different slices is read once, since readers keep the first copy of each id.
 */
export const jetstreamEventLog = (js: JetStreamClient, jsm: JetStreamManager, names: NatsNames, dedupeWindowMs: number): EventLog => {
  /** Reads every message under a subject filter, in stream order. */
  const readAll = async (filter: string): Promise<PulseEvent[]> => {
    const info = await jsm.consumers.add(names.logStream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      // A single filter_subject: nats-server 2.9 (Debian 12) lacks filter_subjects.
      filter_subject: filter,
      mem_storage: true,
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await js.consumers.get(names.logStream, info.name);
    const out: PulseEvent[] = [];
    // Asking for exactly what is pending lets each fetch end as soon as it is served instead of at its expiry.
    let remaining = info.num_pending;
    try {
      while (remaining > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, 1000), expires: 5000 });
        let received = 0;
        for await (const m of batch) {
          received++;
          out.push(...(JSON.parse(decoder.decode(m.data)) as PulseEvent[]));
        }
        if (received === 0) throw new StoreError("jetstream-log", `reading ${filter} stalled with ${remaining} messages pending`, true);
        remaining -= received;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  };

  const firstOfEach = (events: readonly PulseEvent[]): PulseEvent[] => {
    const seen = new Set<string>();
    return events.filter((e) => {
      const key = `${e.site}\u001f${e.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };

  return {
    backend: "jetstream",
    init: () => ensureLogStream(jsm, names, dedupeWindowMs),
    async append(events) {
      const slices = new Map<string, PulseEvent[]>();
      for (const e of events) {
        const subject = visitorSubject(names.logSubjectPrefix, e.site, e.visitor);
        const slice = slices.get(subject);
        if (slice) slice.push(e);
        else slices.set(subject, [e]);
      }
      // Publishes on one connection reach the server in call order, so a visitor's slices keep their order.
      // A window bounds the requests in flight: each pending one holds buffers and a timer, and a step may touch
      // tens of thousands of visitors.
      const all = [...slices];
      try {
        for (let i = 0; i < all.length; i += PUBLISH_WINDOW) {
          await Promise.all(
            all.slice(i, i + PUBLISH_WINDOW).map(([subject, slice]) => js.publish(subject, JSON.stringify(slice), { msgID: stableId(subject, ...slice.map((e) => e.id)) })),
          );
        }
      } catch (e) {
        throw new StoreError("jetstream-log", `append failed: ${(e as Error).message}`, true, { cause: e });
      }
    },
    async readVisitor(site, visitor, sinceTs) {
      const subject = visitorSubject(names.logSubjectPrefix, site, visitor);
      // Most visitors are new: one cheap lookup spares creating a consumer for them.
      const last = await jsm.direct.getMessage(names.logStream, { last_by_subj: subject }).catch(() => null);
      if (!last) return [];
      return firstOfEach(await readAll(subject))
        .filter((e) => e.ts >= sinceTs)
        .sort(compareEvents);
    },
    async count(site) {
      return firstOfEach(await readAll(`${names.logSubjectPrefix}.${siteToken(site)}.>`)).length;
    },
    async close() {},
  };
};
