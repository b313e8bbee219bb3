import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NO_SHEDDING } from "./shedding.js";

const CLI = join(process.cwd(), "dist", "src", "cli", "main.js");

export interface PulseProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/**
 * Runs the built `pulse` command as its own process, the way an operator would, and waits
 * until it is ready: /readyz for a process with an edge, its "running:" line otherwise.
 */
export const spawnPulse = async (env: Record<string, string>, opts: { port?: number; args?: readonly string[] } = {}): Promise<PulseProcess> => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` (make test does) before the process tests`);
  const args = opts.args ?? ["start"];
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...NO_SHEDDING, ...env, PULSE_HTTP_HOST: "127.0.0.1", PULSE_HTTP_PORT: String(opts.port ?? 0) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = opts.port ? `http://127.0.0.1:${opts.port}` : "";
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pulse ${args.join(" ")} exited with ${child.exitCode}:\n${out}`);
    const ready = url ? await fetch(`${url}/readyz`).then((r) => r.ok, () => false) : out.includes("pulse: running:");
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`pulse ${args.join(" ")} was not ready within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => out, exited };
};
