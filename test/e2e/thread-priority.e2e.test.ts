import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { threadName, threadNice } from "../../src/app/thread-priority.js";
import { spawnPulse } from "../harness/process.js";

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
