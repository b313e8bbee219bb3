#!/usr/bin/env node
import { ENV_DOC, loadConfig } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import { ALL_ROLES, startPulse, type Role } from "../app/pulse.js";
import { startBackgroundNice } from "../app/thread-priority.js";
import { ADMIN_HELP, runAdmin } from "./admin.js";
import { runRebuildCommand, runStatusCommand } from "./rebuild.js";
import { REBUILD_HELP } from "../rebuild/args.js";

const HELP = `pulse: self-hosted web analytics backend

Usage:
  pulse start [--roles edge,worker,store]
                     run Pulse; by default every role in one process:
                       edge    HTTP ingestion (POST /collect) and the /ws endpoint
                       worker  session worker for the partitions whose leases it wins
                       store   owner of the analytics store: writes projections, answers queries
  pulse worker       a session worker only (same as --roles worker); run several for scale
  pulse --help       show this help
  pulse --version    show the version

Exactly one process may run the store role on an embedded (chDB) store.

${ADMIN_HELP}

${REBUILD_HELP}

pulse start listens for events on POST /collect and for queries on the /ws WebSocket,
both on PULSE_HTTP_PORT. SIGTERM or Ctrl-C drains: no new requests, pending batches
are stored and answered, consumers acked, connections closed (at most about 30 s;
a second signal exits at once).

Environment:
${ENV_DOC.map(([name, def, what]) => `  ${name.padEnd(26)} ${what} [default: ${def}]`).join("\n")}

Docs: README.md, docs/ingest-protocol.md, docs/websocket-protocol.md
`;

const say = (line: string): void => {
  process.stderr.write(`pulse: ${line}\n`);
};

const parseRoles = (argv: readonly string[]): Role[] => {
  const at = argv.findIndex((a) => a === "--roles" || a.startsWith("--roles="));
  if (at < 0) return [...ALL_ROLES];
  const arg = argv[at] ?? "";
  const raw = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (argv[at + 1] ?? "");
  const roles = raw.split(",").map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || bad.length > 0) throw new ConfigError(`--roles takes a comma-separated list of ${ALL_ROLES.join(", ")}; got "${raw}"`);
  return roles as Role[];
};

const start = async (roles: readonly Role[]): Promise<void> => {
  const config = loadConfig();
  // With the edge in the same process, the worker gets a thread of its own: its steps would otherwise delay the edge's answers.
  const pulse = await startPulse(config, roles, say, { workerThread: roles.includes("edge") && roles.includes("worker") });
  if (pulse.url) say(`listening on ${pulse.url}  (POST /collect, GET /healthz, GET /readyz, WebSocket /ws)`);
  say(`running: ${roles.join(", ")}`);
  // Only beside an edge on this process's main thread is there an ack to keep ahead of the rest.
  const stopNice = roles.includes("edge") && roles.length > 1 ? startBackgroundNice(config.backgroundNice, 1000, say) : () => undefined;
  let stopping = false;
  let firstSignalAt = 0;
  const stop = (signal: string): void => {
    if (stopping) {
      // Ctrl-C reaches a whole process group: a wrapper such as `make demo` forwards it as SIGTERM at the same
      // moment. Only a signal that comes later is someone asking again.
      if (Date.now() - firstSignalAt < 1000) return;
      say(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    stopNice();
    say(`${signal}: draining`);
    pulse.stop().then(
      () => {
        say("stopped");
        process.exit(0);
      },
      (e: unknown) => {
        say(`drain failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
};

const main = async (argv: readonly string[]): Promise<number> => {
  const [command] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version") {
    process.stdout.write("pulse 0.1.0\n");
    return 0;
  }
  if (command === "start" || command === "worker") {
    if (argv.includes("--help")) {
      process.stdout.write(HELP);
      return 0;
    }
    await start(command === "worker" ? ["worker"] : parseRoles(argv.slice(1)));
    return -1;
  }
  if (command === "site" || command === "token") return runAdmin(loadConfig(), argv);
  if (command === "rebuild" || command === "status") {
    const config = loadConfig();
    // Whatever fails is reported as the command's error, not as a failed start.
    return (command === "rebuild" ? runRebuildCommand(config, argv.slice(1)) : runStatusCommand(config)).catch((e: unknown) => {
      throw e instanceof ConfigError ? e : new ConfigError((e as Error).message);
    });
  }
  process.stderr.write(`pulse: unknown command "${command}"\n\n${HELP}`);
  return 2;
};

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    say(e instanceof ConfigError ? e.message : `failed to start: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
