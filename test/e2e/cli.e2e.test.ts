import { execFile } from "node:child_process";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { uniqueNamespace } from "../harness/pulse.js";

const CLI = join(process.cwd(), "dist", "src", "cli", "main.js");

const pulse = (env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });

it("manages sites and query tokens: add, list, show, rotate, token create, list, revoke, rm", async () => {
  const env = { PULSE_NATS_URL: inject("natsUrl"), PULSE_NAMESPACE: uniqueNamespace() };
  const add = await pulse(env, "site", "add", "shop.example", "--hostname", "shop.example", "--measurement-id", "G-SHOP1", "--session-timeout", "45m");
  expect(add.code).toBe(0);
  const secret = /shown once: (\S+)/.exec(add.out)?.[1] ?? "";
  expect(secret.length).toBeGreaterThan(20);
  expect((await pulse(env, "site", "add", "shop.example")).code).not.toBe(0);
  expect((await pulse(env, "site", "list")).out).toMatch(/^shop\.example\tshop\.example\tUTC\tG-SHOP1$/m);
  const shown = JSON.parse((await pulse(env, "site", "show", "shop.example")).out) as Record<string, unknown>;
  expect(shown).toMatchObject({ id: "shop.example", sessionTimeoutMs: 2_700_000, hostnames: ["shop.example"] });
  expect(JSON.stringify(shown)).not.toContain(secret);
  const rotated = /shown once: (\S+)/.exec((await pulse(env, "site", "rotate", "shop.example")).out)?.[1];
  expect(rotated).toBeDefined();
  expect(rotated).not.toBe(secret);

  const created = await pulse(env, "token", "create", "--site", "shop.example");
  expect(created.code).toBe(0);
  const id = /^token ([0-9a-f]{12}) for shop\.example/m.exec(created.out)?.[1] ?? "";
  expect(created.out).toMatch(new RegExp(`^pq_${id}_\\S+$`, "m"));
  expect((await pulse(env, "token", "create", "--site", "nowhere")).err).toMatch(/no site "nowhere"/);
  expect((await pulse(env, "token", "revoke", id)).code).toBe(0);
  expect((await pulse(env, "token", "list")).out).toMatch(new RegExp(`^${id}\\tshop\\.example\\t.*\\trevoked$`, "m"));

  expect((await pulse(env, "site", "rm", "shop.example")).code).toBe(0);
  expect((await pulse(env, "site", "list")).out).toBe("");
  const bad = await pulse(env, "site", "frobnicate");
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/pulse site add <id>/);
}, 60_000);
