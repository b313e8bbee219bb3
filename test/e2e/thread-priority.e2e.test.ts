import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { spawnPulse } from "../harness/process.js";

/** A thread's name as the kernel has it (ClickHouse names its pools); `task` is `<pid>/task/<tid>`. */
const threadName = (task: string): string => {
  try {
    return readFileSync(`/proc/${task}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

/** A thread's nice value, from field 19 of its stat line (after the parenthesised name, which may hold spaces). */
const threadNice = (task: string): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${task}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[16]);
  } catch {
    return undefined;
  }
};

/** Every thread of a process with its name and nice value, from /proc. */
const threadsOf = (pid: number): { tid: number; name: string; nice: number | undefined }[] =>
  readdirSync(`/proc/${pid}/task`).map((t) => {
    const tid = Number(t);
    const task = `${pid}/task/${tid}`;
    return { tid, name: threadName(task), nice: threadNice(task) };
  });

const run = async (env: Record<string, string>): Promise<{ threads: ReturnType<typeof threadsOf>; pid: number; output: string }> => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-nice-"));
  try {
    const pulse = await spawnPulse({ ...env, PULSE_DATA_DIR: dataDir, PULSE_SITES: "site-a" });
    const pid = pulse.child.pid as number;
    // chDB grows its pools as work comes; a sweep a second lowers those too.
    await new Promise((r) => setTimeout(r, 1500));
    const threads = threadsOf(pid);
    pulse.child.kill("SIGTERM");
    await pulse.exited;
    return { threads, pid, output: pulse.output() };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
};

it("pulse start runs every thread but the edge's at PULSE_BACKGROUND_NICE, and leaves them as they are with 0", async () => {
  const lowered = await run({});
  expect(lowered.output).toContain("background threads at nice 5");
  const main = lowered.threads.find((t) => t.tid === lowered.pid);
  expect(main?.nice).toBe(0);
  const others = lowered.threads.filter((t) => t.tid !== lowered.pid);
  // The worker's thread and libuv's, and chDB's named pools (BgSchPool, MergeMutate, ThreadPool, ...).
  expect(others.filter((t) => t.name !== "node").length).toBeGreaterThan(5);
  expect(others.filter((t) => t.nice !== 5)).toEqual([]);

  const even = await run({ PULSE_BACKGROUND_NICE: "0" });
  expect(even.output).not.toContain("background threads at nice");
  // Threads keep the priority they run at (chDB's MemoryWorker raises its own to -20).
  expect(even.threads.filter((t) => t.nice === 5)).toEqual([]);
  expect(even.threads.find((t) => t.tid === even.pid)?.nice).toBe(0);
}, 120_000);
