import { PROBE_SITE } from "../load/model.js";
import { day, type QueryClient } from "./ws-query.js";

/**
 * Freshness: how long after its 202 an event shows in a report. A marker page view goes to
 * the probe site (no other traffic there); the probe then asks `/ws` for the site's pageviews
 * until the count includes it. The time is taken when the answer that includes it arrives.
 */

export interface FreshnessSample {
  /** When the marker was acknowledged, epoch ms. */
  readonly t: number;
  readonly ms: number;
}

export interface FreshnessRun {
  readonly samples: FreshnessSample[];
  /** Markers still not visible after the timeout. */
  readonly timeouts: number;
  /** Markers not acknowledged (shed or failed). */
  readonly unacked: number;
}

export interface FreshnessProbe {
  /** Sends a marker about every `everyMs` until stopped. */
  start(): void;
  /** Stops sending markers and returns what this run saw so far, without waiting for the last marker. */
  stop(): Promise<FreshnessRun>;
}

const MARKER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 bench-probe";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const freshnessProbe = (baseUrl: string, client: QueryClient, tag: string, everyMs = 500, pollMs = 20, timeoutMs = 30_000): FreshnessProbe => {
  let expected = 0;
  let counter = 0;
  let running = false;
  let run: { samples: FreshnessSample[]; timeouts: number; unacked: number } = { samples: [], timeouts: 0, unacked: 0 };
  const range = (): [string, string] => [day(Date.now() - 2 * 86_400_000), day(Date.now() + 86_400_000)];
  const marker = async (): Promise<void> => {
    const k = counter++;
    const body = JSON.stringify({ site: PROBE_SITE, id: `${tag}-m${k}`, visitor: `probe-${tag}-${k}`, name: "pageview", url: "https://probe.bench.example/marker", ts: Date.now() });
    // A browser's user agent: reports may leave out traffic that looks like a bot (fetch says "node").
    const res = await fetch(`${baseUrl}/collect`, { method: "POST", headers: { "content-type": "application/json", "user-agent": MARKER_AGENT }, body }).catch(() => undefined);
    await res?.arrayBuffer().catch(() => undefined);
    const ackedAt = Date.now();
    if (res?.status !== 202) {
      run.unacked++;
      return;
    }
    expected++;
    const [from, to] = range();
    while (Date.now() - ackedAt < timeoutMs) {
      const seen = await client.pageviews(PROBE_SITE, from, to).catch(() => -1);
      if (seen >= expected) {
        run.samples.push({ t: ackedAt, ms: Date.now() - ackedAt });
        return;
      }
      await sleep(pollMs);
    }
    run.timeouts++;
  };
  // The marker loop outlives stop(): a marker still waiting to be seen ends in whichever run is
  // current when it is seen, and the load of the next phase need not wait for it.
  let looping = false;
  const loop = async (): Promise<void> => {
    looping = true;
    while (running) {
      const began = Date.now();
      await marker();
      await sleep(Math.max(0, everyMs - (Date.now() - began)));
    }
    looping = false;
  };
  return {
    start() {
      running = true;
      run = { samples: [], timeouts: 0, unacked: 0 };
      if (!looping) void loop();
    },
    async stop() {
      running = false;
      return run;
    },
  };
};
