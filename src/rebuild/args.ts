import { parseDuration } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import type { RebuildArgs } from "./run.js";

export const REBUILD_HELP = `Rebuilding projections from the event log:
  pulse rebuild [--site S] [--from DATE --to DATE] [--session-timeout 45m] [--source es|jetstream] [--dry-run]
                     recompute events, sessions and rollups from the log under the given rules into a
                     new projection version, check it, and make it active; ingestion goes on meanwhile.
                       --site S            only this site (others are carried over unchanged)
                       --from/--to DATE    only events in this time range: 2026-11-01 (a --to day is
                                           included whole) or 2026-11-01T12:00:00Z (--to excluded)
                       --session-timeout D a new inactivity timeout (90s, 45m, 2h); the live path uses
                                           it too once the new version is active
                       --source es|jetstream  which log to read; default: the configured one
                       --dry-run           print how sessions, users and bounce rate would change; write nothing
                     A rebuild that was stopped resumes from its last checkpoint when run again with the
                     same options. With a running \`pulse start\`, its store process does the work.
  pulse rebuild --rollback
                     make the previous projection version active again
  pulse status       projection versions, the rules each was built with, unfinished rebuilds`;

export type RebuildCommand = { readonly kind: "rebuild"; readonly args: RebuildArgs } | { readonly kind: "rollback" } | { readonly kind: "help" };

const DAY = 86_400_000;

const parseDate = (raw: string, flag: string, isEnd: boolean): number => {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const ms = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) throw new ConfigError(`${flag} takes a date like 2026-11-01 or 2026-11-01T12:00:00Z, got "${raw}"`);
  return dateOnly && isEnd ? ms + DAY : ms;
};

/** `pulse rebuild …` arguments. `defaultSource` is the configured log backend. */
export const parseRebuildArgs = (argv: readonly string[], defaultSource: "elasticsearch" | "jetstream"): RebuildCommand => {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { kind: "help" };
    if (a === "--dry-run" || a === "--rollback") {
      switches.add(a);
      continue;
    }
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (!["--site", "--from", "--to", "--session-timeout", "--source"].includes(flag)) throw new ConfigError(`unknown option "${a}" for pulse rebuild (see pulse rebuild --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) throw new ConfigError(`pulse rebuild ${flag} needs a value`);
    if (values.has(flag)) throw new ConfigError(`pulse rebuild ${flag} given twice`);
    values.set(flag, value);
  }
  if (switches.has("--rollback")) {
    if (values.size > 0 || switches.has("--dry-run")) throw new ConfigError("pulse rebuild --rollback takes no other option");
    return { kind: "rollback" };
  }
  const source = values.get("--source");
  if (source !== undefined && source !== "es" && source !== "jetstream") throw new ConfigError(`--source takes es or jetstream, got "${source}"`);
  const from = values.get("--from");
  const to = values.get("--to");
  const fromTs = from === undefined ? undefined : parseDate(from, "--from", false);
  const toTs = to === undefined ? undefined : parseDate(to, "--to", true);
  if (fromTs !== undefined && toTs !== undefined && fromTs >= toTs) throw new ConfigError(`--from (${from}) must come before --to (${to})`);
  const timeout = values.get("--session-timeout");
  const sessionTimeoutMs = timeout === undefined ? undefined : parseDuration(timeout, "--session-timeout");
  if (sessionTimeoutMs !== undefined && sessionTimeoutMs < 1000) throw new ConfigError(`--session-timeout must be at least 1s, got "${timeout}"`);
  return {
    kind: "rebuild",
    args: {
      site: values.get("--site"),
      fromTs,
      toTs,
      sessionTimeoutMs,
      source: source === undefined ? defaultSource : source === "es" ? "elasticsearch" : "jetstream",
      dryRun: switches.has("--dry-run"),
    },
  };
};
