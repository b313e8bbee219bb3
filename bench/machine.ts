import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { repoRoot } from "./config.js";
import type { MachineInfo } from "./report/types.js";

const run = (cmd: string, args: readonly string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return "";
  }
};

/** What the figures were taken on: nproc, the CPU model from /proc/cpuinfo, RAM, versions, commit. */
export const machineInfo = (elasticsearch: string | undefined): MachineInfo => {
  const cpuinfo = (() => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return "";
    }
  })();
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  const nats = /v?(\d+\.\d+\.\d+)/.exec(run("nats-server", ["--version"]))?.[1] ?? "unknown";
  return {
    nproc: Number(run("nproc", [])) || cpus().length,
    cpuModel: model,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer: nats,
    elasticsearch,
    kernel: release(),
    loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    // BENCH_COMMIT names the commit when the tree is not a git checkout (e.g. an exported snapshot).
    commit: process.env["BENCH_COMMIT"] || run("git", ["rev-parse", "--short", "HEAD"]) || "unknown",
    dirty: process.env["BENCH_COMMIT"] ? false : run("git", ["status", "--porcelain"]).length > 0,
  };
};
