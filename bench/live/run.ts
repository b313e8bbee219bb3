import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { HttpConnection, type HttpAnswer } from "../load/http-client.js";
import { machineInfo } from "../machine.js";
import { percentileOf } from "../report/stats.js";
import { createQueryToken, startPulse } from "../sut/pulse.js";

/**
 * Live subscriptions: how soon after the 202 of an event that changes a subscribed report does
 * the new answer arrive? Starts `pulse start` as a child, subscribes to the total pageviews of one
 * site, sends that site single pageviews at a steady rate while other sites get background traffic,
 * and measures ack -> update. Settings (environment):
 *   BENCH_LIVE_SECONDS      length of the probe phase (default 60)
 *   BENCH_LIVE_RATE         probe events per second for the subscribed site (default 5)
 *   BENCH_LIVE_BG_RATE      background events per second for other sites (default 1000)
 *   BENCH_LIVE_POLL_MS      also ask POST /api/v1/reports:run this often, for the time from ack to
 *                           queryable without a subscription (default 0: off; it adds query load)
 */
const seconds = Number(process.env["BENCH_LIVE_SECONDS"] ?? 60);
const rate = Number(process.env["BENCH_LIVE_RATE"] ?? 5);
const bgRate = Number(process.env["BENCH_LIVE_BG_RATE"] ?? 1000);
const pollMs = Number(process.env["BENCH_LIVE_POLL_MS"] ?? 0);
const SITE = "live";
const BACKGROUND = ["bg1", "bg2", "bg3"];
const BG_BATCH = 25;

const say = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

// A browser's User-Agent: events from clients that look like bots are left out of reports.
const HEADERS = "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n";

const post = (c: HttpConnection, body: unknown): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => c.post("/collect", JSON.stringify(body), HEADERS, (e, a) => (e || !a ? reject(e ?? new Error("no answer")) : resolve(a))));

interface Answer {
  readonly at: number;
  readonly pageviews: number;
  readonly watermark: number;
  readonly elapsedMs: number;
}

const main = async (): Promise<void> => {
  const machine = machineInfo(undefined);
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-bench-live-"));
  const namespace = "benchlive";
  const pulse = await startPulse({ env: { PULSE_DATA_DIR: dataDir, PULSE_SITES: [SITE, ...BACKGROUND].join(","), PULSE_NAMESPACE: namespace } });
  say(`pulse ready at ${pulse.url} (pid ${pulse.pid})`);
  const answers: Answer[] = [];
  try {
    const token = await createQueryToken(pulse.natsUrl, namespace, [SITE]);
    if (!token) throw new Error("could not create a query token");
    const ws = new WebSocket(`${pulse.url.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    let rows: Record<string, number>[] = [];
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; rows?: Record<string, number>[]; watermark?: string; elapsedMs?: number; error?: unknown };
      if (m.type === "rows") rows.push(...(m.rows ?? []));
      else if (m.type === "done") {
        answers.push({ at: Date.now(), pageviews: Number(rows[0]?.["pageviews"] ?? 0), watermark: Date.parse(m.watermark ?? ""), elapsedMs: m.elapsedMs ?? 0 });
        rows = [];
      } else say(`subscription message: ${JSON.stringify(m)}`);
    });
    ws.send(JSON.stringify({ op: "subscribe", id: "live", query: { site: SITE, from: day(-1), to: day(1), metrics: ["pageviews"] } }));
    while (answers.length === 0) await sleep(10);

    // Background: other sites, batches of 25 events, paced to bgRate.
    let running = true;
    let bgAcked = 0;
    let bgFailed = 0;
    let bgSeq = 0;
    const bgLoop = async (c: HttpConnection, lane: number, lanes: number): Promise<void> => {
      const interval = (1000 * BG_BATCH * lanes) / bgRate;
      let next = Date.now();
      while (running) {
        const site = BACKGROUND[bgSeq % BACKGROUND.length] as string;
        const n = bgSeq++;
        const events = Array.from({ length: BG_BATCH }, (_, i) => ({ name: "pageview", url: `https://${site}.example/p${i % 7}`, visitor: `bg-${lane}-${(n * BG_BATCH + i) % 5000}` }));
        await post(c, { site, events }).then(
          (a) => (a.status === 202 ? (bgAcked += BG_BATCH) : bgFailed++),
          () => bgFailed++,
        );
        next += interval;
        await sleep(Math.max(0, next - Date.now()));
      }
    };
    const lanes = 4;
    const bgConnections = Array.from({ length: lanes }, () => new HttpConnection("127.0.0.1", pulse.port, 10_000));
    const bgStarted = Date.now();
    const background = bgRate > 0 ? bgConnections.map((c, i) => bgLoop(c, i, lanes)) : [];
    await sleep(3000);
    say(`background running (${bgRate} events/s for ${BACKGROUND.join(", ")}); probing ${SITE} at ${rate}/s for ${seconds} s`);

    // Optional poller: when each count first became queryable, for comparison.
    const polled: { at: number; pageviews: number }[] = [];
    const poller = (async () => {
      if (pollMs <= 0) return;
      const c = new HttpConnection("127.0.0.1", pulse.port, 10_000);
      const spec = JSON.stringify({ site: SITE, from: day(-1), to: day(1), metrics: ["pageviews"] });
      while (running) {
        const a = await new Promise<HttpAnswer | undefined>((resolve) =>
          c.post("/api/v1/reports:run", spec, `Authorization: Bearer ${token}\r\n`, (e, r) => resolve(e ? undefined : r)),
        );
        if (a?.status === 200) polled.push({ at: Date.now(), pageviews: Number((JSON.parse(a.body) as { rows: Record<string, number>[] }).rows[0]?.["pageviews"] ?? 0) });
        await sleep(pollMs);
      }
      c.close();
    })();

    // Probes: one pageview each; `acks[k]` is when the 202 of the (k+1)-th event arrived.
    const base = answers.at(-1)?.pageviews ?? 0;
    const acks: number[] = [];
    const probe = new HttpConnection("127.0.0.1", pulse.port, 10_000);
    const probes = seconds * rate;
    const started = Date.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < probes; i++) {
      await sleep(Math.max(0, started + (i * 1000) / rate - Date.now()));
      inflight.push(
        post(probe, { site: SITE, name: "pageview", url: `https://${SITE}.example/`, visitor: `probe-${i}` }).then((a) => {
          if (a.status !== 202) throw new Error(`probe answered ${a.status}: ${a.body}`);
          acks.push(Date.now());
        }),
      );
      // One connection, one request at a time: wait for this one before the next is due.
      await inflight.at(-1);
    }
    await Promise.all(inflight);
    const deadline = Date.now() + 10_000;
    while ((answers.at(-1)?.pageviews ?? 0) < base + probes && Date.now() < deadline) await sleep(50);
    running = false;
    await Promise.all([...background, poller]);
    const bgSeconds = (Date.now() - bgStarted) / 1000;
    for (const c of [...bgConnections, probe]) c.close();
    ws.close();

    // The k-th acked probe is in every answer that counts at least base + k pageviews.
    const latencies: number[] = [];
    const pollLatencies: number[] = [];
    let missing = 0;
    let watermarkBehind = 0;
    acks.sort((a, b) => a - b);
    acks.forEach((ackedAt, k) => {
      const first = answers.find((a) => a.pageviews >= base + k + 1);
      if (!first) {
        missing++;
        return;
      }
      latencies.push(first.at - ackedAt);
      const seen = polled.find((p) => p.pageviews >= base + k + 1);
      if (seen) pollLatencies.push(seen.at - ackedAt);
      if (first.watermark < ackedAt) watermarkBehind++;
    });
    const marks = answers.map((a) => a.watermark);
    const updates = answers.slice(1);
    const monotonic = marks.every((w, i) => i === 0 || w >= (marks[i - 1] as number));
    const result = {
      when: new Date().toISOString(),
      commit: machine.commit,
      machine: `${machine.nproc} cores, ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}, nats-server ${machine.natsServer}`,
      loadAvgAtStart: machine.loadAvgAtStart,
      loadAvgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
      probes,
      probeRatePerSec: rate,
      backgroundEventsPerSec: bgRate,
      backgroundAcked: bgAcked,
      backgroundFailedRequests: bgFailed,
      backgroundAchievedPerSec: Math.round(bgAcked / bgSeconds),
      updates: answers.length - 1,
      missing,
      latencyMs: { p50: percentileOf(latencies, 50), p95: percentileOf(latencies, 95), p99: percentileOf(latencies, 99), max: Math.max(...latencies) },
      // Time the store took per answer, and how far each answer's watermark was behind its arrival.
      answerQueryMs: { p50: percentileOf(updates.map((a) => a.elapsedMs), 50), p95: percentileOf(updates.map((a) => a.elapsedMs), 95) },
      watermarkAgeMs: { p50: percentileOf(updates.map((a) => a.at - a.watermark), 50), p95: percentileOf(updates.map((a) => a.at - a.watermark), 95) },
      watermarkBehindAck: watermarkBehind,
      ...(pollMs > 0
        ? { pollEveryMs: pollMs, queryableLatencyMs: { n: pollLatencies.length, p50: percentileOf(pollLatencies, 50), p95: percentileOf(pollLatencies, 95), max: Math.max(...pollLatencies) } }
        : {}),
      watermarkMonotonic: monotonic,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await pulse.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
};

await main();
