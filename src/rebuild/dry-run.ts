/** One site's counts, as reports show them (bots left out). */
export interface DryRunTotals {
  readonly site: string;
  readonly sessions: number;
  readonly users: number;
  readonly engaged: number;
  readonly events: number;
}

const bounce = (t: DryRunTotals | undefined): string => (t && t.sessions > 0 ? `${(100 * (1 - t.engaged / t.sessions)).toFixed(1)}%` : "-");
const change = (before: number, after: number): string => {
  const d = after - before;
  const pct = before > 0 ? ` (${d >= 0 ? "+" : ""}${((100 * d) / before).toFixed(1)}%)` : "";
  return `${before} -> ${after}${d === 0 ? "" : pct}`;
};

/** What `pulse rebuild --dry-run` prints: per site, sessions, users and bounce rate now and after such a rebuild. */
export const dryRunReport = (now: readonly DryRunTotals[], after: readonly DryRunTotals[], activeVersion: number): string => {
  const sites = [...new Set([...now, ...after].map((t) => t.site))].sort();
  const lines = [`dry run: nothing was written; counts of version ${activeVersion} (now) and of the rebuild (after), bots left out`];
  for (const site of sites) {
    const a = now.find((t) => t.site === site);
    const b = after.find((t) => t.site === site);
    lines.push(`${site}: sessions ${change(a?.sessions ?? 0, b?.sessions ?? 0)}; users ${change(a?.users ?? 0, b?.users ?? 0)}; bounce rate ${bounce(a)} -> ${bounce(b)}`);
  }
  if (sites.length === 0) lines.push("no events in scope");
  return lines.join("\n");
};
