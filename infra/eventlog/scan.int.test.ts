import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { PulseEvent } from "../../src/core/event.js";
import { uniqueNamespace } from "../../test/harness/pulse.js";
import { elasticsearchEventLog } from "../elasticsearch/eventlog.js";
import { elasticsearchLogScanner, type ScanOptions } from "../elasticsearch/log-scan.js";
import { jetstreamEventLog } from "../nats/eventlog.js";
import { jetstreamLogScanner } from "../nats/log-scan.js";
import { natsNames } from "../nats/streams.js";
import type { EventLog } from "./port.js";
import type { LogScanner, ScanScope, VisitorHistory } from "./scan.js";

const T0 = Date.UTC(2026, 10, 1);
const ev = (site: string, visitor: string, i: number, ts: number, seq: number): PulseEvent => ({
  id: `${visitor}-${i}`,
  site,
  visitor,
  name: "pageview",
  ts,
  seq,
  receivedAt: ts,
  url: `https://${site}/p${i}`,
  referrer: "",
  props: {},
});

// 300 visitors on two sites, 1 to 9 events each, appended in shuffled slices, some twice.
const dataset = (): PulseEvent[] => {
  const out: PulseEvent[] = [];
  let seq = 1;
  // Some ids with characters whose order differs between UTF-8 bytes and UTF-16 units (U+E000 against an emoji).
  const name = (v: number): string => (v % 50 === 7 ? `v${v}-\uE000` : v % 50 === 8 ? `v${v - 1}-😀` : v % 50 === 9 ? `v${v - 2}-é` : `v${v}`);
  for (let v = 0; v < 300; v++) for (let i = 0; i < 1 + (v % 9); i++) out.push(ev(v % 3 === 0 ? "b.example" : "a.example", name(v), i, T0 + v * 1000 + ((i * 7919) % 13) * 60_000, seq++));
  return out;
};

const all: ScanScope = { site: undefined, fromTs: 0, toTs: Number.MAX_SAFE_INTEGER };
const key = (h: VisitorHistory): string => `${h.site}/${h.visitor}`;
const expected = (events: readonly PulseEvent[], scope: ScanScope): Map<string, string[]> => {
  const out = new Map<string, PulseEvent[]>();
  for (const e of events) {
    if ((scope.site !== undefined && e.site !== scope.site) || e.ts < scope.fromTs || e.ts >= scope.toTs) continue;
    out.set(`${e.site}/${e.visitor}`, [...(out.get(`${e.site}/${e.visitor}`) ?? []), e]);
  }
  return new Map([...out].map(([k, list]) => [k, list.sort((a, b) => a.ts - b.ts || a.seq - b.seq).map((e) => e.id)]));
};

const collect = async (scanner: LogScanner, scope: ScanScope, upTo: number, resume?: unknown, stopAfterCheckpoints = Infinity) => {
  const seen = new Map<string, string[]>();
  let cursor: unknown;
  let checkpoints = 0;
  for await (const c of scanner.scan(scope, upTo, resume)) {
    for (const h of c.visitors) {
      expect(seen.has(key(h))).toBe(false);
      seen.set(key(h), h.events.map((e) => e.id));
    }
    if (c.checkpoint) {
      cursor = c.cursor;
      if (++checkpoints >= stopAfterCheckpoints) break;
    }
  }
  return { seen, cursor };
};

const scannerContract = (name: string, open: () => Promise<{ log: EventLog; scanner: LogScanner; close: () => Promise<void> }>): void => {
  describe(`log scan: ${name}`, () => {
    it("hands over every visitor whole, once, in order; by site and time range; resumes from a cursor; finds changes", async () => {
      const { log, scanner, close } = await open();
      try {
        await log.init();
        const events = dataset();
        const shuffled = [...events].sort((a, b) => ((a.seq * 7919) % 101) - ((b.seq * 7919) % 101));
        for (let i = 0; i < shuffled.length; i += 97) await log.append(shuffled.slice(i, i + 97));
        await log.append(shuffled.slice(0, 50));
        const upTo = await scanner.position();

        const whole = await collect(scanner, all, upTo);
        expect(whole.seen).toEqual(expected(events, all));

        const scope: ScanScope = { site: "b.example", fromTs: T0 + 60_000, toTs: T0 + 200_000 };
        expect((await collect(scanner, scope, upTo)).seen).toEqual(expected(events, scope));

        // Stop after the first checkpoint, resume from it: together they are the whole.
        const first = await collect(scanner, all, upTo, undefined, 1);
        const rest = await collect(scanner, all, upTo, first.cursor);
        const joined = new Map([...first.seen, ...rest.seen]);
        expect(joined).toEqual(expected(events, all));

        const late = [ev("a.example", "v1", 50, T0 + 5, 5_000_000_000_000_000), ev("a.example", "new", 0, T0 + 9, 5_000_000_000_000_001)];
        await log.append(late);
        const changed = await scanner.changedSince(all, upTo);
        expect(changed.visitors.map((v) => `${v.site}/${v.visitor}`)).toEqual(expect.arrayContaining(["a.example/v1", "a.example/new"]));
        expect(changed.position).toBeGreaterThan(upTo);
        expect((await scanner.readVisitor(all, "a.example", "v1")).events.map((e) => e.id)).toEqual(expected([...events, ...late], all).get("a.example/v1"));
        expect((await scanner.changedSince(all, changed.position)).visitors.filter((v) => v.visitor === "new")).toEqual(name === "jetstream" ? [] : [{ site: "a.example", visitor: "new" }]);
      } finally {
        await close();
      }
    }, 120_000);
  });
};

scannerContract("jetstream", async () => {
  const nc = await connect({ servers: inject("natsUrl") });
  const names = natsNames(uniqueNamespace());
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const log = jetstreamEventLog(js, jsm, names, 60_000);
  const scanner = jetstreamLogScanner(js, jsm, names, log, join(await mkdtemp(join(tmpdir(), "scan-")), "spill"));
  return { log, scanner, close: () => nc.close() };
});

const elasticsearch = (options?: ScanOptions) => async () => {
  const ns = uniqueNamespace();
  const log = elasticsearchEventLog(inject("elasticsearchUrl"), ns);
  const scanner = elasticsearchLogScanner(inject("elasticsearchUrl"), ns, log, options);
  return {
    log,
    scanner,
    close: async () => {
      await scanner.close();
      await log.close();
    },
  };
};

scannerContract("elasticsearch", elasticsearch());
// Many small pages over three slices: the merge of the slices is what keeps each visitor whole and in order.
scannerContract("elasticsearch, pages of 53 over 3 slices", elasticsearch({ pageSize: 53, slices: 3 }));
