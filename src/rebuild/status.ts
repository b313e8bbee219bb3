import type { AnalyticsStore } from "../../infra/clickhouse/store.js";
import { unfinished } from "./checkpoint.js";
import { activeVersion, ensureMeta, listVersions, previousVersion } from "./versions.js";

/** What `pulse status` prints about projections: each version, the rules it was built with, which is active. */
export const projectionStatus = async (store: AnalyticsStore, namespace: string): Promise<string> => {
  await ensureMeta(store, namespace);
  const active = await activeVersion(store, namespace);
  const previous = await previousVersion(store, namespace);
  const versions = await listVersions(store, namespace);
  const mark = (v: number): string => (v === active.version ? "active  " : v === previous?.version ? "previous" : "        ");
  const lines = ["projection versions:", `  ${mark(1)} v1  ${namespace}  built by the live path, rules from the configuration and the site registry`];
  for (const v of versions) {
    lines.push(`  ${mark(v.version)} v${v.version}  ${v.database}  rebuilt ${v.built} UTC from ${v.source}; scope ${v.scope}; rules ${v.rules}; ${v.events} events, ${v.sessions} sessions`);
  }
  for (const u of await unfinished(store, namespace)) {
    lines.push(`  unfinished rebuild of v${u.version} (${u.database}): ${u.phase}, ${Math.floor(u.done * 100)}% scanned; run the same \`pulse rebuild\` again to resume it`);
  }
  return lines.join("\n");
};
