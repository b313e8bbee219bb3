import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "../../infra/net/free-port.js";
import { childrenOf, commOf } from "../observe/procs.js";

/** `pulse start` as a child process, the way an operator runs it. */
export interface PulseUnderTest {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly natsUrl: string;
  /** The nats-server child pulse started, if it started one. */
  readonly natsPid: number | undefined;
  readonly output: () => string;
  readonly alive: () => boolean;
  /** SIGTERM (drain), then waits for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface PulseLaunch {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeArgs?: readonly string[];
  /** Arguments after `start`, e.g. ["--roles", "edge,store"]; or ["worker"] to run `pulse worker` instead. */
  readonly args?: readonly string[];
  /** Ready when this line appears on its output, instead of GET /readyz (a process without the edge role). */
  readonly readyLine?: RegExp;
  readonly readyTimeoutMs?: number;
}

/**
 * A query token for `sites`, made with `pulse token create` against the Pulse's NATS. Pulse
 * versions without query tokens have no such command: then undefined, and /ws needs none.
 */
export const createQueryToken = (natsUrl: string, namespace: string, sites: readonly string[]): Promise<string | undefined> =>
  new Promise((resolve) => {
    const args = [CLI, "token", "create", ...sites.flatMap((s) => ["--site", s])];
    const child = spawn(process.execPath, args, { env: { ...process.env, PULSE_NATS_URL: natsUrl, PULSE_NAMESPACE: namespace }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", () => undefined);
    child.once("error", () => resolve(undefined));
    child.once("exit", (code) => {
      const lines = out.trim().split("\n");
      resolve(code === 0 && lines.length >= 2 && /^token /.test(lines[0] ?? "") ? lines[lines.length - 1]?.trim() : undefined);
    });
  });

export const startPulse = async (launch: PulseLaunch): Promise<PulseUnderTest> => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
  const port = await freePort();
  const host = "127.0.0.1";
  const command = launch.args?.[0] === "worker" ? [...launch.args] : ["start", ...(launch.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, [...(launch.nodeArgs ?? []), CLI, ...command], {
    env: { ...process.env, ...launch.env, PULSE_HTTP_HOST: host, PULSE_HTTP_PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer): void => {
    out += d.toString();
    // Keep the head (startup lines) and a tail; a long run must not grow this without bound.
    if (out.length > 200_000) out = out.slice(0, 20_000) + "\n[...]\n" + out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (launch.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pulse start exited with ${child.exitCode}:\n${out.slice(-4000)}`);
    if (launch.readyLine ? launch.readyLine.test(out) : await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`pulse start was not ready in time:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid ?? -1;
  const natsUrl = /started nats-server at (nats:\/\/[^\s]+)/.exec(out)?.[1] ?? launch.env["PULSE_NATS_URL"];
  if (!natsUrl) throw new Error(`cannot tell which NATS pulse uses:\n${out.slice(-2000)}`);
  const natsPid = childrenOf(pid).find((c) => commOf(c) === "nats-server");
  return {
    url,
    host,
    port,
    pid,
    natsUrl,
    natsPid,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(graceMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      // A pulse that was killed leaves its nats-server behind.
      if (natsPid !== undefined && commOf(natsPid) === "nats-server") process.kill(natsPid, "SIGTERM");
      return code;
    },
  };
};
