import hdr from "hdr-histogram-js";
import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { HttpConnection, type HttpAnswer } from "./http-client.js";
import { buildRequest, newVisitor, requestSize, rng, siteIds, type Visitor } from "./model.js";
import type { AckedSummary, DriverMessage, GeneratorMessage, LatencySummary, PhaseSpec, PhaseStats, SecondStats } from "./protocol.js";

/**
 * The load generator: its own process, driven by the bench driver over IPC. It keeps a
 * population of visitors, sends their events as a tracker would (one request in flight per
 * visitor, 1 to 25 events each), and records every acknowledged event id in a bitmap.
 */

const POPULATION = 4000;
const TIMEOUT_MS = 15_000;
const SITES = siteIds();

const send = (m: GeneratorMessage): void => {
  process.send?.(m);
};

let tag = "b";
let r = rng(1);
let serial = 0;
let nextId = 0;
let idle: Visitor[] = [];
let acked = new Uint8Array(1 << 20);
let ackedPageviewsBySite = new Map<string, number>();
let pool: { key: string; conns: HttpConnection[] } | undefined;

const reset = (newTag: string, seed: number): void => {
  tag = newTag;
  r = rng(seed);
  serial = 0;
  nextId = 0;
  idle = [];
  acked = new Uint8Array(1 << 20);
  ackedPageviewsBySite = new Map();
};

const markAcked = (from: number, count: number): void => {
  const need = (from + count) >> 3;
  if (need >= acked.length) {
    let size = acked.length;
    while (size <= need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(acked);
    acked = grown;
  }
  for (let n = from; n < from + count; n++) acked[n >> 3] = (acked[n >> 3] as number) | (1 << (n & 7));
};

const isAcked = (n: number): boolean => (n >> 3 < acked.length ? ((acked[n >> 3] as number) & (1 << (n & 7))) !== 0 : false);

const takeVisitor = (): Visitor => {
  while (idle.length < POPULATION) idle.push(newVisitor(r, tag, serial++, Date.now()));
  const i = Math.floor(r() * idle.length);
  const v = idle[i] as Visitor;
  idle[i] = idle[idle.length - 1] as Visitor;
  idle.pop();
  return v;
};

const connections = async (spec: PhaseSpec): Promise<HttpConnection[]> => {
  const key = `${spec.host}:${spec.port}:${spec.connections}`;
  if (pool?.key !== key) {
    for (const c of pool?.conns ?? []) c.close();
    pool = { key, conns: Array.from({ length: spec.connections }, () => new HttpConnection(spec.host, spec.port, TIMEOUT_MS)) };
  }
  await Promise.all(pool.conns.map((c) => c.open().catch(() => undefined)));
  return pool.conns;
};

interface Request {
  readonly visitor: Visitor;
  readonly body: string;
  readonly site: string;
  readonly firstId: number;
  readonly events: number;
  readonly pageviews: number;
}

const makeRequest = (): Request => {
  const visitor = takeVisitor();
  const site = SITES[visitor.site] as string;
  const firstId = nextId;
  const built = buildRequest(visitor, requestSize(r), tag, firstId, site);
  nextId += built.events;
  return { visitor, body: built.body, site, firstId, events: built.events, pageviews: built.pageviews };
};

const release = (v: Visitor): void => {
  // A visitor who has sent everything leaves; takeVisitor brings a new one in.
  if (v.next < v.events.length) idle.push(v);
};

const percentile = (sorted: Float64Array, p: number): number => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number));
const round2 = (x: number): number => Math.round(x * 100) / 100;

const runPhase = (spec: PhaseSpec): Promise<PhaseStats> =>
  connections(spec).then(
    (conns) =>
      new Promise<PhaseStats>((resolve) => {
        const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
        const start = performance.now();
        const startedAt = Date.now();
        const endAt = start + spec.durationMs;
        const seconds: { offered: number; acked: number; shed: number; failed: number; lat: number[] }[] = [];
        const second = (t: number): { offered: number; acked: number; shed: number; failed: number; lat: number[] } => {
          const i = Math.max(0, Math.floor((t - start) / 1000));
          while (seconds.length <= i) seconds.push({ offered: 0, acked: 0, shed: 0, failed: 0, lat: [] });
          return seconds[i] as (typeof seconds)[number];
        };
        let requests = 0;
        let offeredEvents = 0;
        let sentEvents = 0;
        let ackedEvents = 0;
        let ackedRequests = 0;
        let ackedPageviews = 0;
        let shed429 = 0;
        const shed503: Record<string, number> = {};
        let shedWithoutRetryAfter = 0;
        let failedEvents = 0;
        const failures: Record<string, number> = {};
        let droppedEvents = 0;
        let partialAccepts = 0;
        let inFlight = 0;
        /** Max mode: connections waiting out a Retry-After. */
        let waiting = 0;
        let lastAnswer = start;
        let finished = false;
        const idleConns = [...conns];
        const queue: { req: Request; at: number }[] = [];
        let head = 0;
        let nextDue = start;
        let timer: NodeJS.Timeout | undefined;

        const onAnswer = (req: Request, intendedAt: number, error: Error | undefined, answer: HttpAnswer | undefined): void => {
          const now = performance.now();
          lastAnswer = now;
          const s = second(now);
          if (error || !answer) {
            failedEvents += req.events;
            s.failed += req.events;
            const key = (error?.message ?? "no answer").slice(0, 60);
            failures[key] = (failures[key] ?? 0) + 1;
            return;
          }
          if (answer.status === 202) {
            const m = /^\{"accepted":(\d+)/.exec(answer.body);
            const accepted = m ? Number(m[1]) : -1;
            let pageviews = req.pageviews;
            if (accepted === req.events) markAcked(req.firstId, req.events);
            else {
              // Some events were refused: mark exactly the ids the edge returned.
              partialAccepts++;
              const ids = (JSON.parse(answer.body) as { ids?: string[] }).ids ?? [];
              for (const id of ids) if (id.startsWith(`${tag}-`)) markAcked(Number(id.slice(tag.length + 1)), 1);
              pageviews = 0;
            }
            const count = accepted >= 0 ? accepted : 0;
            ackedEvents += count;
            ackedRequests++;
            ackedPageviews += pageviews;
            ackedPageviewsBySite.set(req.site, (ackedPageviewsBySite.get(req.site) ?? 0) + pageviews);
            s.acked += count;
            const micros = Math.max(1, Math.round((now - intendedAt) * 1000));
            histogram.recordValue(micros);
            s.lat.push(micros / 1000);
            return;
          }
          if (answer.status === 429 || answer.status === 503) {
            if (answer.status === 429) shed429 += req.events;
            else {
              const code = /"code":"([a-z_]+)"/.exec(answer.body)?.[1] ?? "unknown";
              shed503[code] = (shed503[code] ?? 0) + req.events;
            }
            if (!answer.retryAfter) shedWithoutRetryAfter++;
            s.shed += req.events;
            return;
          }
          failedEvents += req.events;
          s.failed += req.events;
          const key = `http ${answer.status}`;
          failures[key] = (failures[key] ?? 0) + 1;
        };

        const dispatch = (conn: HttpConnection, req: Request, intendedAt: number): void => {
          requests++;
          inFlight++;
          sentEvents += req.events;
          conn.post("/collect", req.body, `User-Agent: ${req.visitor.userAgent}\r\n`, (error, answer) => {
            inFlight--;
            onAnswer(req, intendedAt, error, answer);
            release(req.visitor);
            if (spec.mode === "max") {
              // As a tracker does: a refused request's connection waits out its Retry-After. Sent back to back, the
              // refusals would take the CPU the pipeline needs to drain what it let in, on the one machine they share.
              const seconds = answer && (answer.status === 429 || answer.status === 503) ? Number(answer.retryAfter ?? 0) : 0;
              // Pulse sends seconds; anything else (an HTTP date) is sent again at once rather than leaving the connection idle.
              const wait = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
              const next = (): void => {
                if (performance.now() >= endAt) return;
                const req = makeRequest();
                offeredEvents += req.events;
                second(performance.now()).offered += req.events;
                dispatch(conn, req, performance.now());
              };
              if (wait === 0) next();
              else if (performance.now() + wait < endAt) {
                waiting++;
                setTimeout(() => {
                  waiting--;
                  next();
                  maybeFinish();
                }, wait);
              }
            } else {
              idleConns.push(conn);
              drain();
            }
            maybeFinish();
          });
        };

        // Rate mode: hand queued requests to free connections; drop those that waited too long.
        const drain = (): void => {
          const now = performance.now();
          while (head < queue.length && idleConns.length > 0) {
            const item = queue[head++] as { req: Request; at: number };
            if (now - item.at > spec.maxQueueMs) {
              droppedEvents += item.req.events;
              release(item.req.visitor);
              continue;
            }
            dispatch(idleConns.pop() as HttpConnection, item.req, item.at);
          }
          if (head > 4096 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
        };

        const pump = (): void => {
          const now = performance.now();
          while (nextDue <= now && nextDue < endAt) {
            const req = makeRequest();
            offeredEvents += req.events;
            second(nextDue).offered += req.events;
            queue.push({ req, at: nextDue });
            nextDue += (req.events / spec.eventsPerSec) * 1000;
          }
          drain();
          // Requests still queued when no connection frees up in time are dropped, not sent late forever.
          while (head < queue.length && now - (queue[head] as { at: number }).at > spec.maxQueueMs) {
            const item = queue[head++] as { req: Request };
            droppedEvents += item.req.events;
            release(item.req.visitor);
          }
          if (now < endAt) timer = setTimeout(pump, 1);
          else {
            timer = undefined;
            maybeFinish();
          }
        };

        const maybeFinish = (): void => {
          if (finished || performance.now() < endAt || inFlight > 0 || waiting > 0 || timer !== undefined || head < queue.length) return;
          finished = true;
          const latency: LatencySummary = {
            count: histogram.totalCount,
            mean: round2(histogram.mean / 1000),
            p50: round2(histogram.getValueAtPercentile(50) / 1000),
            p90: round2(histogram.getValueAtPercentile(90) / 1000),
            p99: round2(histogram.getValueAtPercentile(99) / 1000),
            p999: round2(histogram.getValueAtPercentile(99.9) / 1000),
            max: round2(histogram.maxValue / 1000),
          };
          histogram.destroy();
          const series: SecondStats[] = seconds.map((s, i) => {
            const sorted = Float64Array.from(s.lat).sort();
            return { t: startedAt + i * 1000, offered: s.offered, acked: s.acked, shed: s.shed, failed: s.failed, p50: round2(percentile(sorted, 50)), p99: round2(percentile(sorted, 99)) };
          });
          resolve({
            name: spec.name,
            mode: spec.mode,
            targetEventsPerSec: spec.eventsPerSec,
            startedAt,
            elapsedMs: Math.round(lastAnswer - start),
            requests,
            offeredEvents,
            sentEvents,
            ackedEvents,
            ackedRequests,
            ackedPageviews,
            shed429,
            shed503,
            shedWithoutRetryAfter,
            failedEvents,
            failures,
            droppedEvents,
            partialAccepts,
            latency,
            series,
          });
        };

        if (spec.mode === "max") {
          for (const c of conns) {
            const req = makeRequest();
            offeredEvents += req.events;
            second(start).offered += req.events;
            dispatch(c, req, performance.now());
          }
          // Ends the phase when the clock runs out even if every connection is stuck.
          setTimeout(maybeFinish, spec.durationMs + 1).unref();
        } else pump();
      }),
  );

/** Writes the acknowledged ids as `first,end` ranges (end excluded), one per line. */
const writeAcked = async (file: string): Promise<AckedSummary> => {
  const lines: string[] = [];
  let events = 0;
  let n = 0;
  while (n < nextId) {
    if (!isAcked(n)) {
      n++;
      continue;
    }
    const from = n;
    while (n < nextId && isAcked(n)) n++;
    events += n - from;
    lines.push(`${from},${n}`);
  }
  await writeFile(file, lines.join("\n") + (lines.length > 0 ? "\n" : ""));
  return { events, ranges: lines.length, pageviewsBySite: Object.fromEntries(ackedPageviewsBySite) };
};

process.on("message", (raw: unknown) => {
  const m = raw as DriverMessage;
  const handle = async (): Promise<void> => {
    switch (m.type) {
      case "reset":
        reset(m.tag, m.seed);
        return;
      case "run":
        send({ type: "result", stats: await runPhase(m.spec) });
        return;
      case "acked":
        send({ type: "acked", summary: await writeAcked(m.file) });
        return;
      case "exit":
        for (const c of pool?.conns ?? []) c.close();
        process.exit(0);
    }
  };
  handle().catch((e: unknown) => send({ type: "error", message: (e as Error).stack ?? String(e) }));
});
send({ type: "ready" });
