import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { access, constants, cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StartElasticsearchOptions {
  home: string;
  javaHome: string;
  log?: (line: string) => void;
}

export interface RunningElasticsearch {
  url: string;
  stop: () => Promise<void>;
}

const JVM_ROOT = "/usr/lib/jvm";
const MIN_JAVA_MAJOR = 21;
const HEALTH_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 20_000;
const TAIL_LINES = 60;

export async function resolveJavaHome(): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(JVM_ROOT)).sort();
  } catch (error) {
    throw new Error(`Cannot list ${JVM_ROOT} to find a JDK for Elasticsearch: ${String(error)}`);
  }
  const seen: string[] = [];
  for (const name of names) {
    const home = join(JVM_ROOT, name);
    const major = await readJavaMajor(home);
    if (major === undefined) continue;
    seen.push(`${name}=${major}`);
    if (major >= MIN_JAVA_MAJOR && (await isExecutable(join(home, "bin", "java")))) return home;
  }
  throw new Error(
    `Elasticsearch 9 needs Java ${MIN_JAVA_MAJOR}+, but no such JDK is in ${JVM_ROOT} ` +
      `(found: ${seen.length > 0 ? seen.join(", ") : "none"}).`,
  );
}

async function readJavaMajor(home: string): Promise<number | undefined> {
  let release: string;
  try {
    release = await readFile(join(home, "release"), "utf8");
  } catch {
    return undefined;
  }
  const version = /^JAVA_VERSION="([^"]+)"/m.exec(release)?.[1];
  if (version === undefined) return undefined;
  const parts = version.split(".");
  // Java 8 and older report "1.8.0_x".
  const major = Number(parts[0] === "1" ? parts[1] : parts[0]);
  return Number.isInteger(major) ? major : undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Both ports are held until both are known, so they cannot coincide. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            if (address !== null && typeof address === "object") resolve(address.port);
            else reject(new Error("could not read the bound port"));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function collectLines(child: ChildProcess, tail: string[], log: ((line: string) => void) | undefined): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        log?.(line);
      }
    });
  }
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) return false;
    const body = (await response.json()) as { timed_out?: unknown };
    return body.timed_out === false;
  } catch {
    return false;
  }
}

interface Prepared {
  args: string[];
  url: string;
  paths: Record<"config" | "data" | "logs" | "tmp", string>;
}

async function prepare(home: string, workDir: string): Promise<Prepared> {
  const paths = {
    config: join(workDir, "config"),
    data: join(workDir, "data"),
    logs: join(workDir, "logs"),
    tmp: join(workDir, "tmp"),
  };
  // ES writes its keystore into the config dir, so each node gets a private copy.
  await cp(join(home, "config"), paths.config, { recursive: true });
  await Promise.all([mkdir(paths.data), mkdir(paths.logs), mkdir(paths.tmp)]);

  const [httpPort, transportPort] = await freePorts(2);
  if (httpPort === undefined || transportPort === undefined) throw new Error("could not allocate free ports");
  const url = `http://127.0.0.1:${httpPort}`;

  const settings = [
    "network.host=127.0.0.1",
    `http.port=${httpPort}`,
    `transport.port=${transportPort}`,
    "discovery.type=single-node",
    `path.data=${paths.data}`,
    `path.logs=${paths.logs}`,
    "cluster.routing.allocation.disk.threshold_enabled=false",
    // The integ-test-zip does ship x-pack-security; left unset, the launcher auto-enables TLS and auth.
    "xpack.security.enabled=false",
  ].map((s) => `-E${s}`);
  return { args: settings, url, paths };
}

export async function startElasticsearch(opts: StartElasticsearchOptions): Promise<RunningElasticsearch> {
  const workDir = await mkdtemp(join(tmpdir(), "pulse-es-"));
  let prepared: Prepared;
  try {
    prepared = await prepare(opts.home, workDir);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const { url, paths } = prepared;
  const esBin = join(opts.home, "bin", "elasticsearch");
  // ES refuses to run as root; a user namespace makes it see uid 1000 while files stay root-owned.
  const asRoot = process.getuid?.() === 0;
  const [command, args] = asRoot
    ? ["unshare", ["--user", "--map-user=1000", "--map-group=1000", esBin, ...prepared.args]]
    : [esBin, prepared.args];

  const child = spawn(command, args, {
    cwd: workDir,
    env: {
      ...process.env,
      ES_JAVA_HOME: opts.javaHome,
      ES_JAVA_OPTS: "-Xms512m -Xmx512m",
      ES_PATH_CONF: paths.config,
      ES_TMPDIR: paths.tmp,
    },
    // Own process group: signals reach both the launcher JVM and the server JVM it forks.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail: string[] = [];
  collectLines(child, tail, opts.log);

  const exited = new Promise<string>((resolve) => {
    // "close" rather than "exit": it waits for the output pipes, which the server JVM also holds.
    child.once("close", (code, signal) => resolve(`exit code ${String(code)}, signal ${String(signal)}`));
    child.once("error", (error) => resolve(`spawn error: ${error.message}`));
  });
  let exitStatus: string | undefined;
  void exited.then((status) => (exitStatus = status));

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || exitStatus !== undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const onProcessExit = (): void => {
    signalGroup("SIGKILL");
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once("exit", onProcessExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signalGroup("SIGTERM");
      const killTimer = setTimeout(() => signalGroup("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killTimer);
      process.off("exit", onProcessExit);
      await rm(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (!(await isHealthy(url))) {
    const failure =
      exitStatus !== undefined
        ? `Elasticsearch exited before becoming healthy (${exitStatus})`
        : Date.now() > deadline
          ? `Elasticsearch was not yellow at ${url} within ${HEALTH_TIMEOUT_MS / 1000} s`
          : undefined;
    if (failure !== undefined) {
      await stop();
      throw new Error(`${failure}. Last output:\n${tail.join("\n")}`);
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  return { url, stop };
}
