import { Client } from "@elastic/elasticsearch";
import type { PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import type { EventLog } from "../eventlog/port.js";
import { historyOf, type LogScanner, type ScanScope, type VisitorHistory } from "../eventlog/scan.js";

const PAGE = 10_000;
// Each page's fetch phase (reading 10,000 sources) runs on one Elasticsearch search thread; two slices read at
// once keep two busy, while this side waits on them most of the time.
const SLICES = 2;
const KEEP_ALIVE = "5m";
// Receive sequences are epoch µs from several edges; an event logged late can carry a sequence
// a little below one seen before. Asking for changes this far back covers such stragglers.
const STRAGGLER_SEQ = 120 * 1_000_000;

type SortValue = string | number;

interface Cursor {
  readonly after: readonly SortValue[];
  readonly read: number;
}

interface Hit {
  readonly _source?: { event: PulseEvent } | undefined;
  readonly sort?: readonly SortValue[] | undefined;
}

/**
 * Elasticsearch orders keywords by their UTF-8 bytes, which is code point order; JavaScript compares
 * UTF-16 units, which differs for characters above U+FFFF against U+E000–U+FFFF. Surrogates are moved
 * above that range so the merge below agrees with the order each slice arrives in.
 */
const unit = (c: number): number => (c >= 0xd800 ? (c >= 0xe000 ? c - 0x800 : c + 0x2000) : c);
const compareKeywords = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unit(x) - unit(y);
  }
  return a.length - b.length;
};
const compareSort = (a: readonly SortValue[], b: readonly SortValue[]): number => {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as SortValue;
    const y = b[i] as SortValue;
    const d = typeof x === "string" && typeof y === "string" ? compareKeywords(x, y) : Number(x) - Number(y);
    if (d !== 0) return d;
  }
  return 0;
};

/** One slice's hits, page by page; the next page is asked for at once, so Elasticsearch reads it while this one is used. */
async function* sliceStream(
  slice: number,
  after: readonly SortValue[] | undefined,
  page: (slice: number, from: readonly SortValue[] | undefined) => Promise<readonly Hit[]>,
  pageSize: number,
): AsyncGenerator<readonly Hit[]> {
  let next: Promise<readonly Hit[]> | undefined = page(slice, after);
  try {
    while (next) {
      const hits: readonly Hit[] = await next;
      const last = hits.at(-1)?.sort;
      next = hits.length === pageSize && last ? page(slice, last) : undefined;
      if (hits.length > 0) yield hits;
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

/**
 * The slices' hits merged into one sequence in sort order, in runs of `size` (shorter only at the
 * end): every slice is sorted by (site, visitor, time, sequence), so a visitor's events, spread over
 * the slices, come out together and in order.
 */
async function* mergeSorted(streams: readonly AsyncGenerator<readonly Hit[]>[], size: number): AsyncGenerator<Hit[]> {
  const first = async (s: AsyncGenerator<readonly Hit[]>): Promise<{ stream: AsyncGenerator<readonly Hit[]>; hits: readonly Hit[]; at: number }> => {
    const r = await s.next();
    return { stream: s, hits: r.done ? [] : r.value, at: 0 };
  };
  const heads = await Promise.all(streams.map(first));
  let live = heads.filter((h) => h.hits.length > 0);
  let out: Hit[] = [];
  while (live.length > 0) {
    let min = live[0] as (typeof live)[number];
    for (const h of live) if (compareSort(h.hits[h.at]?.sort ?? [], min.hits[min.at]?.sort ?? []) < 0) min = h;
    out.push(min.hits[min.at] as Hit);
    if (++min.at === min.hits.length) {
      const next = await min.stream.next();
      min.hits = next.done ? [] : next.value;
      min.at = 0;
      if (min.hits.length === 0) live = live.filter((h) => h !== min);
    }
    if (out.length === size) {
      yield out;
      out = [];
    }
  }
  yield out;
}

/**
 * Reads the Elasticsearch log for a rebuild: a point in time, sorted by (site, visitor, time,
 * sequence), paged with search_after, so each visitor's events arrive together and in order.
 * A cursor is the sort values of the last event of a whole visitor: a resumed scan opens a new
 * point in time and goes on from there.
 */
export interface ScanOptions {
  /** Hits per search page (at most Elasticsearch's max_result_window, 10,000 by default). */
  readonly pageSize?: number;
  /** Point-in-time slices read at once. */
  readonly slices?: number;
}

export const elasticsearchLogScanner = (url: string, namespace: string, log: EventLog, options: ScanOptions = {}): LogScanner => {
  const pageSize = options.pageSize ?? PAGE;
  const slices = options.slices ?? SLICES;
  const client = new Client({ node: url });
  const index = `${namespace}-events-*`;
  const filters = (scope: ScanScope): object[] => [
    { range: { ts: { gte: scope.fromTs, lt: scope.toTs } } },
    ...(scope.site === undefined ? [] : [{ term: { site: scope.site } }]),
  ];
  const refresh = (): Promise<unknown> => client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw e instanceof StoreError ? e : new StoreError("elasticsearch", `${what}: ${(e as Error).message}`, true, { cause: e });
    }
  };
  const maxSeq = async (scope: ScanScope | undefined): Promise<number> => {
    const res = await client.search({
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 0,
      ...(scope ? { query: { bool: { filter: filters(scope) } } } : {}),
      aggs: { top: { max: { field: "seq" } } },
    });
    const value = (res.aggregations?.["top"] as { value?: number | null } | undefined)?.value;
    return typeof value === "number" ? value : 0;
  };

  return {
    backend: "elasticsearch",
    position: () =>
      wrap("reading the log position", async () => {
        await refresh();
        return maxSeq(undefined);
      }),
    async *scan(scope, _upTo, resume) {
      const start = resume as Cursor | undefined;
      await wrap("refresh", refresh);
      const total = await wrap("count", async () => (await client.count({ index, ignore_unavailable: true, allow_no_indices: true, query: { bool: { filter: filters(scope) } } })).count);
      let pit = await wrap("opening a point in time", async () => (await client.openPointInTime({ index, keep_alive: KEEP_ALIVE, ignore_unavailable: true, allow_partial_search_results: false })).id);
      let read = start?.read ?? 0;
      let held: PulseEvent[] = [];
      let heldKey = "";
      const page = (slice: number, from: readonly SortValue[] | undefined) =>
        wrap("reading a page", async () => {
          const res = await client.search<{ event: PulseEvent }>({
            pit: { id: pit, keep_alive: KEEP_ALIVE },
            size: pageSize,
            query: { bool: { filter: filters(scope) } },
            sort: [{ site: "asc" }, { visitor: "asc" }, { ts: "asc" }, { seq: "asc" }],
            _source: ["event"],
            track_total_hits: false,
            ...(slices > 1 ? { slice: { id: String(slice), max: slices } } : {}),
            ...(from ? { search_after: [...from] } : {}),
          });
          pit = res.pit_id ?? pit;
          return res.hits.hits as readonly Hit[];
        });
      const streams = Array.from({ length: slices }, (_, i) => sliceStream(i, start?.after, page, pageSize));
      try {
        for await (const hits of mergeSorted(streams, pageSize)) {
          const visitors: VisitorHistory[] = [];
          let lastWhole: readonly SortValue[] | undefined;
          let heldAfter: readonly SortValue[] | undefined;
          for (const h of hits) {
            const e = h._source?.event;
            if (!e) continue;
            const key = `${e.site}\u001f${e.visitor}`;
            if (key !== heldKey && held.length > 0) {
              const first = held[0] as PulseEvent;
              visitors.push(historyOf(first.site, first.visitor, held, scope));
              read += held.length;
              held = [];
              lastWhole = heldAfter;
            }
            heldKey = key;
            held.push(e);
            heldAfter = h.sort as SortValue[];
          }
          const end = hits.length < pageSize;
          if (end && held.length > 0) {
            const first = held[0] as PulseEvent;
            visitors.push(historyOf(first.site, first.visitor, held, scope));
            read += held.length;
            held = [];
            lastWhole = heldAfter;
          }
          // The cursor points after the last whole visitor: the one still being read starts over on resume.
          const cursor: Cursor | undefined = lastWhole ? { after: lastWhole, read } : undefined;
          yield { visitors, cursor, checkpoint: cursor !== undefined, done: total === 0 ? 1 : Math.min(1, read / total), phase: "reading and building" };
          if (end) return;
        }
      } finally {
        await Promise.all(streams.map((s) => s.return(undefined).catch(() => undefined)));
        await client.closePointInTime({ id: pit }).catch(() => undefined);
      }
    },
    changedSince: (scope, since) =>
      wrap("finding changed visitors", async () => {
        await refresh();
        const visitors: { site: string; visitor: string }[] = [];
        let afterKey: Record<string, string | number | null> | undefined;
        for (;;) {
          const res = await client.search({
            index,
            ignore_unavailable: true,
            allow_no_indices: true,
            size: 0,
            query: { bool: { filter: [...filters(scope), { range: { seq: { gt: since - STRAGGLER_SEQ } } }] } },
            aggs: {
              visitors: {
                composite: { size: PAGE, sources: [{ site: { terms: { field: "site" } } }, { visitor: { terms: { field: "visitor" } } }], ...(afterKey ? { after: afterKey } : {}) },
              },
            },
          });
          const agg = res.aggregations?.["visitors"] as { buckets: { key: { site: string; visitor: string } }[]; after_key?: Record<string, string> } | undefined;
          for (const b of agg?.buckets ?? []) visitors.push({ site: b.key.site, visitor: b.key.visitor });
          if (!agg?.after_key || (agg.buckets.length ?? 0) < PAGE) break;
          afterKey = agg.after_key;
        }
        return { visitors, position: Math.max(since, await maxSeq(scope)) };
      }),
    async readVisitor(scope, site, visitor) {
      return historyOf(site, visitor, await log.readVisitor(site, visitor, scope.fromTs), scope);
    },
    close: () => client.close(),
  };
};
