import { Client, errors } from "@elastic/elasticsearch";
import type { estypes } from "@elastic/elasticsearch";
import type { PulseEvent } from "../../src/core/event.js";
import { StoreError } from "../../src/core/errors.js";
import type { EventLog } from "../eventlog/port.js";
import { logId } from "../eventlog/subject.js";

interface LogDoc {
  readonly site: string;
  readonly visitor: string;
  readonly ts: number;
  readonly seq: number;
  readonly event: PulseEvent;
}

const PAGE = 5000;

interface Lookup {
  readonly site: string;
  readonly visitor: string;
  readonly sinceTs: number;
  readonly resolve: (events: PulseEvent[]) => void;
  readonly reject: (e: unknown) => void;
}

const monthIndex = (prefix: string, ts: number): string => {
  const d = new Date(ts);
  return `${prefix}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
};

// 429 and 5xx pass with time; anything else is a mapping or request bug that a retry repeats.
const retryableStatus = (status: number): boolean => status === 429 || status >= 500;

const asStoreError = (e: unknown, what: string): StoreError => {
  if (e instanceof StoreError) return e;
  if (e instanceof errors.ResponseError) return new StoreError("elasticsearch", `${what}: ${e.message}`, retryableStatus(e.statusCode ?? 500), { cause: e });
  return new StoreError("elasticsearch", `${what}: ${(e as Error).message}`, true, { cause: e });
};

/**
 * The production event log: monthly indices, `_id` derived from (site, event id) so an
 * append is `create`-only and a repeated event is a harmless 409. Only the fields
 * needed for per-visitor ordered reads are indexed; the event itself is kept verbatim.
 */
export const elasticsearchEventLog = (url: string, namespace: string): EventLog => {
  const client = new Client({ node: url });
  const prefix = `${namespace}-events`;
  const pattern = `${prefix}-*`;
  // Search sees only refreshed data. A read of a visitor this process appended to since the last
  // refresh refreshes first, once for all reads waiting on it, so the log reads its own writes.
  // Most reads are of visitors new to the log: they wait for no refresh, which under steady
  // appends cost a few hundred milliseconds per worker step.
  let unrefreshed = new Set<string>();
  let inRefresh = new Set<string>();
  let refreshing: Promise<unknown> | undefined;
  const startRefresh = (): void => {
    inRefresh = unrefreshed;
    unrefreshed = new Set();
    refreshing = client.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true }).finally(() => {
      refreshing = undefined;
      inRefresh = new Set();
    });
  };
  /** Waits until every append of these visitors by this process is searchable; `all` for every append. */
  const refreshFor = async (keys: readonly string[] | "all"): Promise<void> => {
    const waitsOn = (set: Set<string>): boolean => (keys === "all" ? set.size > 0 : keys.some((k) => set.has(k)));
    for (;;) {
      if (waitsOn(unrefreshed) && !refreshing) startRefresh();
      if (!refreshing || !(waitsOn(inRefresh) || waitsOn(unrefreshed))) return;
      await refreshing;
    }
  };
  const visitorKey = (site: string, visitor: string): string => `${site}\u001f${visitor}`;
  // Visitors appended and not yet known to be searchable are remembered until a refresh; beyond this many, one is forced.
  const MAX_UNREFRESHED = 200_000;

  const visitorQuery = (l: Lookup, after?: (number | string)[]) => ({
    size: PAGE,
    query: { bool: { filter: [{ term: { site: l.site } }, { term: { visitor: l.visitor } }, { range: { ts: { gte: l.sinceTs } } }] } },
    sort: [{ ts: "asc" as const }, { seq: "asc" as const }],
    ...(after ? { search_after: after } : {}),
  });

  /** The rest of a visitor's history beyond its first page, page by page (rare: more than PAGE events). */
  const readRest = async (l: Lookup, out: PulseEvent[], after: (number | string)[]): Promise<void> => {
    let next: (number | string)[] | undefined = after;
    while (next) {
      const page: estypes.SearchResponse<LogDoc> = await client.search<LogDoc>({ index: pattern, ignore_unavailable: true, allow_no_indices: true, ...visitorQuery(l, next) });
      for (const h of page.hits.hits) if (h._source) out.push(h._source.event);
      next = page.hits.hits.length === PAGE ? (page.hits.hits.at(-1)?.sort as (number | string)[] | undefined) : undefined;
    }
  };

  // Lookups asked for in the same turn of the event loop go to Elasticsearch as one msearch after one
  // refresh: a worker step hydrates many new visitors at once, and a search each cost a round trip each.
  let lookups: Lookup[] = [];
  const runLookups = (): void => {
    const batch = lookups;
    lookups = [];
    (async () => {
      await refreshFor(batch.map((l) => visitorKey(l.site, l.visitor)));
      const res = await client.msearch<LogDoc>({
        searches: batch.flatMap((l) => [{ index: pattern, ignore_unavailable: true, allow_no_indices: true }, visitorQuery(l)]),
      });
      await Promise.all(
        batch.map(async (l, i) => {
          try {
            const r = res.responses[i];
            if (!r || "error" in r) throw new StoreError("elasticsearch", `reading a visitor: ${r ? JSON.stringify(r.error) : "no response"}`, r ? retryableStatus(r.status) : true);
            const out: PulseEvent[] = [];
            for (const h of r.hits.hits) if (h._source) out.push(h._source.event);
            const last = r.hits.hits.at(-1);
            if (r.hits.hits.length === PAGE && last?.sort) await readRest(l, out, last.sort as (number | string)[]);
            l.resolve(out);
          } catch (e) {
            l.reject(asStoreError(e, "reading a visitor"));
          }
        }),
      );
    })().catch((e: unknown) => {
      for (const l of batch) l.reject(asStoreError(e, "reading visitors"));
    });
  };

  return {
    backend: "elasticsearch",
    async init() {
      try {
        await client.indices.putIndexTemplate({
          name: prefix,
          index_patterns: [pattern],
          template: {
            settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: "1s" },
            mappings: {
              dynamic: "strict",
              properties: {
                site: { type: "keyword" },
                visitor: { type: "keyword" },
                ts: { type: "date", format: "epoch_millis" },
                seq: { type: "long" },
                event: { type: "object", enabled: false },
              },
            },
          },
        });
      } catch (e) {
        throw asStoreError(e, "creating the index template");
      }
    },
    async append(events) {
      if (events.length === 0) return;
      const operations = events.flatMap((e) => [
        { create: { _index: monthIndex(prefix, e.ts), _id: logId(e.site, e.id) } },
        { site: e.site, visitor: e.visitor, ts: e.ts, seq: e.seq, event: e } satisfies LogDoc,
      ]);
      let res;
      try {
        res = await client.bulk({ operations });
        for (const e of events) unrefreshed.add(visitorKey(e.site, e.visitor));
        if (unrefreshed.size > MAX_UNREFRESHED && !refreshing) startRefresh();
      } catch (e) {
        throw asStoreError(e, "bulk append");
      }
      if (!res.errors) return;
      for (const item of res.items) {
        const r = item.create;
        if (!r || r.status < 300 || r.status === 409) continue;
        throw new StoreError("elasticsearch", `bulk append: ${r.status} ${r.error?.type ?? ""} ${r.error?.reason ?? ""}`, retryableStatus(r.status));
      }
    },
    readVisitor: (site, visitor, sinceTs) =>
      new Promise<PulseEvent[]>((resolve, reject) => {
        lookups.push({ site, visitor, sinceTs, resolve, reject });
        if (lookups.length === 1) setImmediate(runLookups);
      }),
    async count(site) {
      try {
        // A count covers every visitor: refresh whatever this process appended, and what others did too.
        unrefreshed.add("");
        await refreshFor("all");
        const res = await client.count({ index: pattern, ignore_unavailable: true, allow_no_indices: true, query: { term: { site } } });
        return res.count;
      } catch (e) {
        throw asStoreError(e, "count");
      }
    },
    close: () => client.close(),
  };
};
