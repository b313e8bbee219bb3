import type { PhaseStats } from "../load/protocol.js";
import type { ProcWindow } from "../observe/procs.js";

/** The shape of bench/results/latest.json. Bump `schema` when it changes incompatibly. */
export const SCHEMA = 1;

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly node: string;
  readonly natsServer: string;
  readonly elasticsearch: string | undefined;
  readonly kernel: string;
  readonly loadAvgAtStart: readonly number[];
  readonly commit: string;
  readonly dirty: boolean;
}

export interface Ceiling {
  readonly id: string;
  readonly part: "uws" | "jetstream" | "chdb" | "elasticsearch";
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** The rate in events/s, when the part moves events; used for the ratio. */
  readonly eventsPerSec: number | undefined;
  /** One of the four parts the ratio compares against (edge HTTP, batched JetStream, chDB, ES bulk). */
  readonly core: boolean;
  readonly cpuPct: Readonly<Record<string, number>>;
  readonly note?: string;
}

export interface LagStats {
  /** Ingest batches not yet processed (consumer pending + ack pending), over the phase. */
  readonly ingestMax: number;
  readonly ingestP95: number;
  readonly ingestEnd: number;
  readonly projectionMax: number;
  /** Events per JetStream ingest message, from the stream's sequence numbers. */
  readonly eventsPerBatch: number | null;
}

export interface FreshnessStats {
  readonly n: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
  readonly timeouts: number;
  readonly unacked: number;
  /** Every marker: when it was acked (epoch ms) and how long until a report showed it. */
  readonly samples?: readonly { readonly t: number; readonly ms: number }[];
}

export type PhaseKind = "warmup" | "max" | "sustain" | "half" | "overload" | "recovery" | "profile";

export interface PhaseResult {
  readonly name: string;
  readonly kind: PhaseKind;
  readonly stats: PhaseStats;
  readonly ackedEventsPerSec: number;
  /** Acked events over (phase time + time until the workers and the store writer caught up). */
  readonly e2eEventsPerSec: number | null;
  /** -1: did not catch up within the timeout; null: not waited for. */
  readonly drainMs: number | null;
  readonly lag: LagStats;
  readonly freshness: FreshnessStats | null;
  readonly procs: ProcWindow;
  readonly pass: boolean | null;
  readonly reasons: readonly string[];
}

export interface StoreVerification {
  readonly ackedEvents: number;
  readonly missing: number;
  readonly examples: readonly string[];
  readonly storedIds: number;
  readonly storedRows: number;
  /** The pageviews /ws reported per site against the acked pageviews, summed over sites where fewer were reported. */
  readonly wsPageviewsShort: number;
  /** When /ws was short: how many were still missing when asked again 5 s later. */
  readonly wsPageviewsShortAfter5s: number | null;
  readonly wsPageviewsReported: number;
  readonly wsPageviewsAcked: number;
  /** Sites where the store (FINAL, as reports count) holds fewer pageviews than were acked: [site, acked, FINAL count, distinct pageview ids]. */
  readonly storePageviewsShort: readonly (readonly [string, number, number, number])[];
  /** What the event log holds for this run: JetStream log stream messages, or ES documents (one per event). */
  readonly logEvents: number | null;
}

export interface OverloadResult {
  readonly offeredEventsPerSec: number;
  /** How long the overload lasted: until the edge had shed through two steps, or the time allowed. */
  readonly seconds: number;
  readonly shedEvents: number;
  readonly shedByCode: Readonly<Record<string, number>>;
  readonly shedWithoutRetryAfter: number;
  readonly rssBeforeMb: number;
  readonly rssMaxMb: number;
  readonly rssAfterMb: number;
  readonly ingestLagMax: number;
  /** Seconds into the recovery phase after which no request was shed. */
  readonly recoverySeconds: number | null;
  readonly recoveryAckedRatio: number;
  /** After the recovery phase, until the backlog left by the overload was processed; -1: not within the timeout. */
  readonly recoveryCaughtUpMs: number | null;
  readonly shedding: boolean;
  readonly retryAfterOk: boolean;
  readonly memoryBounded: boolean;
  readonly recovered: boolean;
}

export interface VariantResult {
  readonly name: "embedded" | "elasticsearch" | "embedded-split";
  readonly log: "jetstream" | "elasticsearch";
  /** Edge and store in one process, the worker in another. */
  readonly split: boolean;
  readonly namespace: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly phases: readonly PhaseResult[];
  readonly maxE2eEventsPerSec: number | null;
  readonly maxAckedEventsPerSec: number | null;
  readonly sustainedEventsPerSec: number | null;
  readonly half: { readonly eventsPerSec: number; readonly p50: number; readonly p99: number } | null;
  readonly freshness: FreshnessStats | null;
  readonly overload: OverloadResult | null;
  readonly verification: StoreVerification | null;
  readonly tightestCeiling: { readonly id: string; readonly eventsPerSec: number } | null;
  readonly ratioToCeiling: number | null;
  /** [epoch ms, ingest lag batches, projection lag messages]. */
  readonly lagSeries: readonly (readonly [number, number, number])[];
  /** [epoch ms, pulse RSS MB]. */
  readonly rssSeries: readonly (readonly [number, number])[];
  readonly error: string | null;
}

export interface ProfileEntry {
  readonly fn: string;
  readonly where: string;
  readonly area: string;
  readonly selfMs: number;
  /** % of the busy (non-idle) time of the main thread. */
  readonly pct: number;
}

export interface ProfileResult {
  readonly process: string;
  readonly file: string;
  readonly wallMs: number;
  readonly busyPct: number;
  readonly top: readonly ProfileEntry[];
  readonly byArea: readonly { readonly area: string; readonly pct: number }[];
}

export interface Goal {
  readonly id: string;
  readonly text: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean | null;
}

export interface BenchResults {
  readonly schema: number;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly load: { readonly sites: number; readonly population: string; readonly eventsPerRequest: string; readonly connections: Readonly<Record<string, number>> };
  readonly ceilings: readonly Ceiling[];
  readonly variants: readonly VariantResult[];
  readonly profiles: readonly ProfileResult[];
  readonly goals: readonly Goal[];
  /** Median CPU used by processes outside the bench, in % of one core, over all phases. */
  readonly otherLoadPct: number;
  readonly notes: readonly string[];
}
