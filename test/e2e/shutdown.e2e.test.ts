import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { spawnPulse } from "../harness/process.js";

/** Child processes of `pid` whose command is `name`, from /proc. */
const childrenNamed = (pid: number, name: string): number[] =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        // pid (comm) state ppid ...: the command may hold spaces, so read after its closing parenthesis.
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return ppid === pid && comm === name ? [Number(d)] : [];
      } catch {
        return [];
      }
    });

it("a SIGTERM ends the process in bounded time even when its NATS server went away first", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-shutdown-"));
  try {
    // No PULSE_NATS_URL: the process starts a nats-server of its own, which the test can kill.
    const pulse = await spawnPulse({ PULSE_NATS_URL: "", PULSE_DATA_DIR: dataDir, PULSE_SITES: "site-a" });
    const pid = pulse.child.pid as number;
    const [nats] = childrenNamed(pid, "nats-server");
    expect(nats, pulse.output()).toBeDefined();
    process.kill(nats as number, "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    pulse.child.kill("SIGTERM");
    // Steps get 30 s in all (10 s at most each); before the bound, this process never exited.
    const code = await Promise.race([pulse.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 60_000))]);
    if (code === "hung") pulse.child.kill("SIGKILL");
    expect(code, pulse.output()).toBe(0);
    expect(pulse.output()).toMatch(/shutdown step \d+ of \d+ did not finish within \d+ ms/);
    expect(pulse.output()).toContain("pulse: stopped");
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);

it("a signal to the whole process group and a wrapper's forwarded one at the same moment drain once", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-shutdown-"));
  try {
    const pulse = await spawnPulse({ PULSE_DATA_DIR: dataDir, PULSE_SITES: "site-a" });
    // What Ctrl-C on `make demo` delivers: SIGINT from the terminal, SIGTERM from the wrapper.
    pulse.child.kill("SIGINT");
    pulse.child.kill("SIGTERM");
    expect(await pulse.exited, pulse.output()).toBe(0);
    expect(pulse.output()).toContain("pulse: stopped");
    expect(pulse.output()).not.toContain("exiting without draining");
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);
