#!/usr/bin/env node
import { ENV_DOC, loadConfig } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import { startPulse } from "../app/pulse.js";

const HELP = `pulse: self-hosted web analytics backend

Usage:
  pulse start        run the edge, the session worker and the query service in one process
  pulse --help       show this help
  pulse --version    show the version

pulse start listens for events on POST /collect and for queries on the /ws WebSocket,
both on PULSE_HTTP_PORT. SIGTERM or Ctrl-C drains: no new requests, pending batches
are stored and answered, consumers acked, connections closed.

Environment:
${ENV_DOC.map(([name, def, what]) => `  ${name.padEnd(26)} ${what} [default: ${def}]`).join("\n")}

Docs: README.md, docs/ingest-protocol.md, docs/websocket-protocol.md
`;

const say = (line: string): void => {
  process.stderr.write(`pulse: ${line}\n`);
};

const start = async (): Promise<void> => {
  const config = loadConfig();
  const pulse = await startPulse(config, say);
  say(`listening on ${pulse.url}  (POST /collect, GET /healthz, GET /readyz, WebSocket /ws)`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      say(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
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
  if (command === "start") {
    if (argv.includes("--help")) {
      process.stdout.write(HELP);
      return 0;
    }
    await start();
    return -1;
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
