import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import type { EventLog } from "../eventlog/port.js";
import { logId, siteToken, visitorSubject } from "../eventlog/subject.js";
import { ensureLogStream, type NatsNames } from "./streams.js";

const decoder = new TextDecoder();

/**
 * The embedded event log: a JetStream stream, one subject per visitor, so a visitor's
 * history is one filtered read. Nats-Msg-Id makes appends idempotent within the
 * stream's duplicate window; the worker's actors drop duplicates older than that.
 */
export const jetstreamEventLog = (js: JetStreamClient, jsm: JetStreamManager, names: NatsNames, dedupeWindowMs: number): EventLog => ({
  backend: "jetstream",
  init: () => ensureLogStream(jsm, names, dedupeWindowMs),
  async append(events) {
    // Publishes on one connection reach the server in call order, so a visitor's events keep their order.
    const acks = events.map((e) =>
      js.publish(visitorSubject(names.logSubjectPrefix, e.site, e.visitor), JSON.stringify(e), { msgID: logId(e.site, e.id) }),
    );
    try {
      await Promise.all(acks);
    } catch (e) {
      throw new StoreError("jetstream-log", `append failed: ${(e as Error).message}`, true, { cause: e });
    }
  },
  async readVisitor(site, visitor, sinceTs) {
    const subject = visitorSubject(names.logSubjectPrefix, site, visitor);
    // Most visitors are new: one cheap lookup spares creating a consumer for them.
    const last = await jsm.direct.getMessage(names.logStream, { last_by_subj: subject }).catch(() => null);
    if (!last) return [];
    // A plain ephemeral consumer with a single filter_subject: nats-server 2.9 (Debian 12) lacks filter_subjects.
    const info = await jsm.consumers.add(names.logStream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
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
          const e = JSON.parse(decoder.decode(m.data)) as PulseEvent;
          if (e.ts >= sinceTs) out.push(e);
        }
        if (received === 0) throw new StoreError("jetstream-log", `reading ${subject} stalled with ${remaining} events pending`, true);
        remaining -= received;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  },
  async count(site) {
    const info = await jsm.streams.info(names.logStream, { subjects_filter: `${names.logSubjectPrefix}.${siteToken(site)}.>` });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  },
  async close() {},
});
