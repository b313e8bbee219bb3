import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProfileEntry, ProfileResult } from "../report/types.js";

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the main thread's time went:
 * self time per function (mapped back to the TypeScript source through the source maps
 * of dist/), and per area (Pulse's own folders, each npm package, Node internals, GC).
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const maps = new Map<string, SourceMap | null>();
const sourceMapOf = (file: string): SourceMap | null => {
  if (!maps.has(file)) {
    const mapFile = `${file}.map`;
    maps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")) as ConstructorParameters<typeof SourceMap>[0]) : null);
  }
  return maps.get(file) ?? null;
};

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Where a frame lives, as a short location and an area name. */
const locate = (f: CallFrame, repo: string): { where: string; area: string } => {
  if (SPECIAL.has(f.functionName)) return { where: "", area: f.functionName };
  if (!f.url) return { where: "(native)", area: "V8 builtins / native" };
  if (f.url.startsWith("node:")) return { where: f.url, area: "node internals" };
  const path = f.url.startsWith("file://") ? fileURLToPath(f.url) : f.url;
  const rel = relative(repo, path);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(rel);
  if (nm) return { where: `${nm[1] as string}/${rel.slice(rel.lastIndexOf("/") + 1)}:${f.lineNumber + 1}`, area: nm[1] as string };
  if (rel.startsWith("dist/")) {
    const entry = sourceMapOf(path)?.findEntry(f.lineNumber, f.columnNumber);
    const src = rel.slice("dist/".length).replace(/\.js$/, ".ts");
    const line = entry && "originalLine" in entry ? entry.originalLine + 1 : f.lineNumber + 1;
    const parts = src.split("/");
    const area = parts[0] === "src" || parts[0] === "infra" || parts[0] === "actors" ? `pulse ${parts.slice(0, 2).join("/")}` : `pulse ${parts[0] ?? ""}`;
    return { where: `${src}:${line}`, area };
  }
  return { where: rel, area: "other" };
};

/**
 * `window`: only samples between these offsets (ms) from the start of the profile, which
 * begins when the process starts; the load phase, without start-up and shutdown.
 */
export const analyzeProfile = (file: string, processName: string, repo: string, window?: { fromMs: number; toMs: number }, top = 25): ProfileResult => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = window ? profile.startTime + window.fromMs * 1000 : profile.startTime;
  const to = window ? Math.min(profile.endTime, profile.startTime + window.toMs * 1000) : profile.endTime;
  // timeDeltas[i] is the time since sample i-1; sample i is charged the time until the next one.
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const wallUs = Math.max(1, to - from);
  const functions = new Map<string, { fn: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    const { where, area } = locate(f, repo);
    const fn = f.functionName || "(anonymous)";
    const key = `${fn}|${where}`;
    const entry = functions.get(key) ?? { fn, where, area, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = Math.max(1, wallUs - idleUs);
  const pct = (us: number): number => Math.round((us / busyUs) * 1000) / 10;
  const entries: ProfileEntry[] = [...functions.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, area: e.area, selfMs: Math.round(e.us / 1000), pct: pct(e.us) }));
  return {
    process: processName,
    file: relative(repo, file),
    wallMs: Math.round(wallUs / 1000),
    busyPct: Math.round((busyUs / Math.max(1, wallUs)) * 1000) / 10,
    top: entries,
    byArea: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, pct: pct(us) })),
  };
};
