import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createConnection } from "node:net";
import { ConfigError } from "../../src/core/errors.js";
import { freePort } from "../net/free-port.js";

export interface LocalNats {
  readonly url: string;
  readonly stop: () => Promise<void>;
}

const INSTALL_HINT = "nats-server was not found on PATH. Install it with `apt-get install nats-server` (Debian/Ubuntu) or from https://nats.io, or set PULSE_NATS_URL to a running server with JetStream.";

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/**
 * Starts `nats-server -js` as a child bound to 127.0.0.1 with its store in `storeDir`,
 * and resolves once it accepts connections.
 */
export const startLocalNats = async (storeDir: string, port?: number): Promise<LocalNats> => {
  await mkdir(storeDir, { recursive: true });
  const p = port ?? (await freePort());
  // A group of its own: Ctrl-C in a terminal signals the whole foreground group, and the server must
  // outlive Pulse's drain (which stops it last). Should Pulse exit without stopping it, it goes too.
  const child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(p), "-sd", storeDir], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const orphaned = (): void => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  process.once("exit", orphaned);
  const tail: string[] = [];
  child.stderr.on("data", (d: Buffer) => {
    tail.push(d.toString());
    if (tail.length > 20) tail.shift();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (e: NodeJS.ErrnoException) => reject(e.code === "ENOENT" ? new ConfigError(INSTALL_HINT) : e)),
  );
  const deadline = Date.now() + 15_000;
  const ready = (async () => {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new ConfigError(`nats-server exited with ${child.exitCode}: ${tail.join("").slice(-2000)}`);
      if (await accepts(p)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new ConfigError(`nats-server did not accept connections on port ${p} within 15 s: ${tail.join("").slice(-2000)}`);
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  // Written down so that `pulse site …` and `pulse token …` can find a running embedded server.
  await writeFile(join(storeDir, "url"), `nats://127.0.0.1:${p}\n`);
  return {
    url: `nats://127.0.0.1:${p}`,
    stop: async () => {
      process.off("exit", orphaned);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
};
