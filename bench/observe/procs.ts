import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

/**
 * CPU and memory of the processes taking part in a run, read from /proc: utime+stime
 * (ticks) from /proc/<pid>/stat, VmRSS from /proc/<pid>/status. A target may cover a
 * process tree (Elasticsearch is a launcher JVM and a server JVM).
 */

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** utime + stime in ticks, or undefined when the process is gone. */
export const cpuTicks = (pid: number): number | undefined => {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
};

export const rssKb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+)/.exec(read(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : 0;
};

export const commOf = (pid: number): string => (read(`/proc/${pid}/comm`) ?? "").trim();

export const childrenOf = (pid: number): number[] => {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    const list = read(`/proc/${pid}/task/${t}/children`) ?? "";
    for (const c of list.trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
};

export const treeOf = (pid: number): number[] => {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i] as number));
  return out;
};

/** Pids whose command line contains `needle`. */
export const findByCmdline = (needle: string): number[] => {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = read(`/proc/${d}/cmdline`);
    if (cmd?.replace(/\0/g, " ").includes(needle)) out.push(Number(d));
  }
  return out;
};

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
const systemTicks = (): { busy: number; total: number } => {
  const line = (read("/proc/stat") ?? "").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
};

export interface Target {
  readonly name: string;
  /** Pids to sum; re-read at every sample, so a tree can grow. */
  readonly pids: () => readonly number[];
}

interface Sample {
  readonly t: number;
  readonly ticks: Readonly<Record<string, number>>;
  readonly rss: Readonly<Record<string, number>>;
  readonly sys: { busy: number; total: number };
}

export interface ProcWindow {
  /** Average CPU over the window, in % of one core. */
  readonly cpuPct: Readonly<Record<string, number>>;
  readonly rssMaxMb: Readonly<Record<string, number>>;
  readonly rssEndMb: Readonly<Record<string, number>>;
  /** CPU of every process on the machine, in % of one core (200% = both cores of a 2-core machine). */
  readonly machineCpuPct: number;
  /** Machine CPU not used by any target: other work on the machine during the window. */
  readonly otherCpuPct: number;
}

export interface ProcSampler {
  add(target: Target): void;
  remove(name: string): void;
  /** Statistics between two epoch-ms times. */
  window(from: number, to: number): ProcWindow;
  /** RSS series of one target, [epoch ms, MB]. */
  rssSeries(name: string, from: number, to: number): [number, number][];
  stop(): void;
}

export const startProcSampler = (everyMs = 500): ProcSampler => {
  const targets = new Map<string, Target>();
  const samples: Sample[] = [];
  const cores = cpus().length;
  const take = (): void => {
    const ticks: Record<string, number> = {};
    const rss: Record<string, number> = {};
    for (const [name, t] of targets) {
      let sum = 0;
      let mem = 0;
      let alive = false;
      for (const pid of t.pids()) {
        const c = cpuTicks(pid);
        if (c === undefined) continue;
        alive = true;
        sum += c;
        mem += rssKb(pid);
      }
      if (alive) {
        ticks[name] = sum;
        rss[name] = mem;
      }
    }
    samples.push({ t: Date.now(), ticks, rss, sys: systemTicks() });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  const nearest = (t: number): Sample | undefined => {
    let best: Sample | undefined;
    for (const s of samples) if (!best || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
    return best;
  };
  return {
    add: (t) => {
      targets.set(t.name, t);
      take();
    },
    remove: (name) => {
      targets.delete(name);
    },
    window(from, to) {
      take();
      const a = nearest(from);
      const b = nearest(to);
      const cpuPct: Record<string, number> = {};
      const rssMaxMb: Record<string, number> = {};
      const rssEndMb: Record<string, number> = {};
      let ours = 0;
      if (!a || !b || b.t <= a.t) return { cpuPct, rssMaxMb, rssEndMb, machineCpuPct: 0, otherCpuPct: 0 };
      const seconds = (b.t - a.t) / 1000;
      for (const name of new Set([...Object.keys(a.ticks), ...Object.keys(b.ticks)])) {
        const t0 = a.ticks[name];
        const t1 = b.ticks[name];
        if (t0 !== undefined && t1 !== undefined) {
          cpuPct[name] = Math.round(((t1 - t0) / CLK_TCK / seconds) * 1000) / 10;
          ours += cpuPct[name];
        }
        let max = 0;
        for (const s of samples) if (s.t >= a.t && s.t <= b.t) max = Math.max(max, s.rss[name] ?? 0);
        rssMaxMb[name] = Math.round(max / 1024);
        rssEndMb[name] = Math.round((b.rss[name] ?? 0) / 1024);
      }
      const dTotal = b.sys.total - a.sys.total;
      const machine = dTotal > 0 ? ((b.sys.busy - a.sys.busy) / dTotal) * 100 * cores : 0;
      return { cpuPct, rssMaxMb, rssEndMb, machineCpuPct: Math.round(machine * 10) / 10, otherCpuPct: Math.max(0, Math.round((machine - ours) * 10) / 10) };
    },
    rssSeries: (name, from, to) => samples.filter((s) => s.t >= from && s.t <= to && s.rss[name] !== undefined).map((s) => [s.t, Math.round((s.rss[name] ?? 0) / 1024)]),
    stop: () => clearInterval(timer),
  };
};
