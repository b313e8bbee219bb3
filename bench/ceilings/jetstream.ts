import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamEventLog } from "../../infra/nats/eventlog.js";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { ensureIngestStream, natsNames } from "../../infra/nats/streams.js";
import { renumber, report, sampleEvents, timed } from "./sample-events.js";

/**
 * JetStream alone, on its own nats-server: batched publish the way the edge does it (one
 * message per batch of events, Nats-Msg-Id, awaited in a window), and the embedded event
 * log's two operations as the worker uses them: append (one message per event) and the
 * lookup of a visitor the log has never seen. argv[2]: {"durationMs":..,"sizes":[..]}.
 */
interface Options {
  readonly durationMs: number;
  readonly sizes: readonly number[];
}
const opts = JSON.parse(process.argv[2] ?? "{}") as Options;

const windowed = (durationMs: number, window: number, one: () => Promise<unknown>): Promise<{ units: number; ms: number }> =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    let inflight = 0;
    let units = 0;
    let stopped = false;
    const finish = (): void => resolve({ units, ms: performance.now() - start });
    const launch = (): void => {
      while (!stopped && inflight < window) {
        if (performance.now() - start >= durationMs) {
          stopped = true;
          break;
        }
        inflight++;
        one().then(() => {
          inflight--;
          units++;
          if (stopped && inflight === 0) finish();
          else launch();
        }, reject);
      }
      if (stopped && inflight === 0) finish();
    };
    launch();
  });

const main = async (): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "pulse-bench-js-"));
  const nats = await startLocalNats(dir);
  const nc = await connect({ servers: nats.url, name: "bench-ceiling" });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  try {
    const names = natsNames("bjs");
    await ensureIngestStream(jsm, names, "bjs");
    const events = sampleEvents(4096, "c");
    const json = events.map((e) => JSON.stringify(e));
    const batched: { eventsPerMessage: number; window: number; messagesPerSec: number; eventsPerSec: number; mbPerSec: number }[] = [];
    for (const k of opts.sizes) {
      const payload = new TextEncoder().encode(`{"batch":"${randomUUID()}","events":[${json.slice(0, k).join(",")}]}`);
      const window = Math.max(16, Math.min(2000, Math.floor((8 << 20) / payload.length)));
      let i = 0;
      const r = await windowed(opts.durationMs, window, () => js.publish(names.ingestSubject(i++ % 8), payload, { msgID: randomUUID() }));
      const perSec = r.units / (r.ms / 1000);
      batched.push({ eventsPerMessage: k, window, messagesPerSec: Math.round(perSec), eventsPerSec: Math.round(perSec * k), mbPerSec: Math.round((perSec * payload.length) / 1e5) / 10 });
      await jsm.streams.purge(names.ingestStream);
    }

    // The same one-event messages on a connection without async stack traces: nats.js then skips
    // creating two Error objects (and their stacks) per request. What that option would save Pulse.
    const lean = await connect({ servers: nats.url, name: "bench-ceiling-lean", noAsyncTraces: true });
    const leanJs = jetstream(lean);
    const one = new TextEncoder().encode(`{"batch":"${randomUUID()}","events":[${json[0] ?? ""}]}`);
    let j = 0;
    const noTraces = await windowed(opts.durationMs, 2000, () => leanJs.publish(names.ingestSubject(j++ % 8), one, { msgID: randomUUID() }));
    await lean.close();
    await jsm.streams.purge(names.ingestStream);

    // The embedded log as the worker calls it: append a step's events of many visitors.
    const log = jetstreamEventLog(js, jsm, names, 48 * 3_600_000);
    await log.init();
    const perCall = 2000;
    let offset = 0;
    const append = await timed(opts.durationMs, async () => {
      const chunk = renumber(events.slice(0, perCall), "la", offset);
      offset += perCall;
      await log.append(chunk);
      return chunk.length;
    });
    // A visitor's first batch: the worker asks the log for its history (here: none), 16 at a time.
    let serial = 0;
    const lookup = await timed(Math.min(opts.durationMs, 4000), async () => {
      await Promise.all(Array.from({ length: 16 }, () => log.readVisitor("bench-s00", `never-seen-${serial++}`, 0)));
      return 16;
    });
    report({
      batched,
      noAsyncTraces: { eventsPerMessage: 1, messagesPerSec: Math.round(noTraces.units / (noTraces.ms / 1000)) },
      logAppend: { eventsPerCall: perCall, eventsPerSec: Math.round(append.units / (append.ms / 1000)) },
      logLookup: { concurrency: 16, visitorsPerSec: Math.round(lookup.units / (lookup.ms / 1000)) },
    });
  } finally {
    await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
};
main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
