import { Client } from "@elastic/elasticsearch";
import type { PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import type { EventLog } from "../eventlog/port.js";
import { historyOf, type LogScanner, type ScanScope, type VisitorHistory } from "../eventlog/scan.js";

const PAGE = 10_000;
const KEEP_ALIVE = "5m";
// Receive sequences are epoch µs from several edges; an event logged late can carry a sequence
// a little below one seen before. Asking for changes this far back covers such stragglers.
const STRAGGLER_SEQ = 120 * 1_000_000;

interface Cursor {
  readonly after: readonly (string | number)[];
  readonly read: number;
}

/**
 * Reads the Elasticsearch log for a rebuild: a point in time, sorted by (site, visitor, time,
 * sequence), paged with search_after, so each visitor's events arrive together and in order.
 * A cursor is the sort values of the last event of a whole visitor: a resumed scan opens a new
 * point in time and goes on from there.
 */
export const elasticsearchLogScanner = (url: string, namespace: string, log: EventLog): LogScanner => {
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
      const after = start?.after;
      let read = start?.read ?? 0;
      let held: PulseEvent[] = [];
      let heldKey = "";
      let next: ReturnType<typeof client.search<{ event: PulseEvent }>> | undefined;
      try {
        const page = (from: readonly (string | number)[] | undefined) =>
          wrap("reading a page", () =>
            client.search<{ event: PulseEvent }>({
              pit: { id: pit, keep_alive: KEEP_ALIVE },
              size: PAGE,
              query: { bool: { filter: filters(scope) } },
              sort: [{ site: "asc" }, { visitor: "asc" }, { ts: "asc" }, { seq: "asc" }],
              _source: ["event"],
              track_total_hits: false,
              ...(from ? { search_after: [...from] } : {}),
            }),
          );
        next = page(after);
        for (;;) {
          const res = await next;
          // The next page is asked for at once, so Elasticsearch reads it while this one is being built.
          const lastSort = res.hits.hits.at(-1)?.sort as (string | number)[] | undefined;
          if (res.hits.hits.length === PAGE && lastSort) next = page(lastSort);
          pit = res.pit_id ?? pit;
          const hits = res.hits.hits;
          const visitors: VisitorHistory[] = [];
          let lastWhole: readonly (string | number)[] | undefined;
          let heldAfter: readonly (string | number)[] | undefined;
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
            heldAfter = h.sort as (string | number)[];
          }
          const end = hits.length < PAGE;
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
        await next?.catch(() => undefined);
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
