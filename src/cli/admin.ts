import { connect, type NatsConnection } from "@nats-io/transport-node";
import { join } from "node:path";
import type { PulseConfig } from "../config/config.js";
import { parseDuration } from "../config/config.js";
import { ConfigError } from "../core/errors.js";
import { SiteRegistry } from "../../infra/nats/registry.js";
import { startLocalNats } from "../../infra/nats/local-server.js";
import { natsNames } from "../../infra/nats/streams.js";
import { readFile } from "node:fs/promises";

export const ADMIN_HELP = `Sites and query tokens (kept in NATS KV):
  pulse site add <id> [--hostname H]... [--timezone Z] [--session-timeout 30m] [--measurement-id G-XXXX]
                     register a site; prints its ingest secret (GA4 api_secret) once
  pulse site list | show <id> | rm <id> | rotate <id>
  pulse token create --site <id> [--site <id>]...
                     a query token for /ws, scoped to those sites; printed once
  pulse token list | revoke <token-id>
These reach the NATS of PULSE_NATS_URL, or the embedded one of a running \`pulse start\` in PULSE_DATA_DIR.`;

const flagValues = (args: readonly string[], flag: string): string[] => args.flatMap((a, i) => (a === flag && args[i + 1] ? [args[i + 1] as string] : []));
const flagValue = (args: readonly string[], flag: string): string | undefined => flagValues(args, flag)[0];

/** The NATS to administer: the configured one, the one a running `pulse start` wrote down, or a short-lived local one. */
export const openNats = async (config: PulseConfig): Promise<{ nc: NatsConnection; close: () => Promise<void> }> => {
  const written = await readFile(join(config.dataDir, "nats", "url"), "utf8").then((u) => u.trim(), () => undefined);
  for (const url of [config.natsUrl, written]) {
    if (!url) continue;
    try {
      const nc = await connect({ servers: url, timeout: 3000 });
      return { nc, close: () => nc.close() };
    } catch (e) {
      if (url === config.natsUrl) throw new ConfigError(`cannot reach NATS at ${url}: ${(e as Error).message}`);
    }
  }
  const local = await startLocalNats(join(config.dataDir, "nats"));
  const nc = await connect({ servers: local.url });
  return {
    nc,
    close: async () => {
      await nc.close();
      await local.stop();
    },
  };
};

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** `pulse site …` and `pulse token …`. Returns the exit code. */
export const runAdmin = async (config: PulseConfig, argv: readonly string[]): Promise<number> => {
  const [noun, verb, ...rest] = argv;
  const { nc, close } = await openNats(config);
  try {
    const registry = await SiteRegistry.open(nc, natsNames(config.namespace).registryBucket);
    try {
      if (noun === "site" && verb === "add" && rest[0] && !rest[0].startsWith("--")) {
        const { site, ingestSecret } = await registry.addSite({
          id: rest[0],
          hostnames: flagValues(rest, "--hostname"),
          timezone: flagValue(rest, "--timezone") ?? "UTC",
          sessionTimeoutMs: parseDuration(flagValue(rest, "--session-timeout") ?? "30m", "--session-timeout"),
          measurementId: flagValue(rest, "--measurement-id") ?? "",
        });
        print(`site ${site.id} added`);
        print(`ingest secret (GA4 api_secret), shown once: ${ingestSecret}`);
        return 0;
      }
      if (noun === "site" && verb === "list") {
        for (const s of registry.list()) print(`${s.id}\t${s.hostnames.join(",") || "(any host)"}\t${s.timezone}\t${s.measurementId || "-"}`);
        return 0;
      }
      if (noun === "site" && verb === "show" && rest[0]) {
        const s = registry.site(rest[0]);
        if (!s) throw new ConfigError(`no site "${rest[0]}"`);
        // The secret's hash stays out of sight as well.
        print(JSON.stringify({ ...s, ingestSecretHash: undefined }, null, 2));
        return 0;
      }
      if (noun === "site" && verb === "rm" && rest[0]) {
        if (!(await registry.removeSite(rest[0]))) throw new ConfigError(`no site "${rest[0]}"`);
        print(`site ${rest[0]} removed (its events stay in the log)`);
        return 0;
      }
      if (noun === "site" && verb === "rotate" && rest[0]) {
        print(`new ingest secret for ${rest[0]}, shown once: ${await registry.rotateSecret(rest[0])}`);
        return 0;
      }
      if (noun === "token" && verb === "create") {
        const sites = flagValues(rest, "--site");
        if (sites.length === 0) throw new ConfigError("pulse token create needs at least one --site");
        const { token, record } = await registry.createToken(sites);
        print(`token ${record.id} for ${sites.join(", ")}, shown once:`);
        print(token);
        return 0;
      }
      if (noun === "token" && verb === "list") {
        for (const t of registry.listTokens()) print(`${t.id}\t${t.sites.join(",")}\t${t.created}${t.revoked ? "\trevoked" : ""}`);
        return 0;
      }
      if (noun === "token" && verb === "revoke" && rest[0]) {
        if (!(await registry.revokeToken(rest[0]))) throw new ConfigError(`no token "${rest[0]}"`);
        print(`token ${rest[0]} revoked`);
        return 0;
      }
      process.stderr.write(`pulse: unknown or incomplete command "${argv.join(" ")}"\n\n${ADMIN_HELP}\n`);
      return 2;
    } finally {
      registry.close();
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError((e as Error).message);
  } finally {
    await close();
  }
};
