import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { sendTraffic } from "./traffic.js";

/**
 * `make demo`: runs `pulse start` on the embedded defaults (local nats-server, JetStream
 * log, chDB), sends synthetic traffic, shows a report, and says what to open.
 * `--once` stops after the report instead of waiting for Ctrl-C.
 */
const once = process.argv.includes("--once");
const port = process.env["PULSE_HTTP_PORT"] ?? "8080";
const base = `http://127.0.0.1:${port}`;
const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const say = (line: string): void => console.log(`demo: ${line}`);

const child = spawn(process.execPath, [cli, "start"], {
  env: { ...process.env, PULSE_HTTP_PORT: port, PULSE_SITES: process.env["PULSE_SITES"] ?? "demo" },
  stdio: ["ignore", "inherit", "inherit"],
});
const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
const stop = async (): Promise<never> => {
  child.kill("SIGTERM");
  process.exit(await exited);
};

const waitReady = async (): Promise<void> => {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`pulse start exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("pulse did not become ready within 30 s");
};

/** A query token for the demo site, made with the CLI as an operator would. */
const demoToken = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const cmd = spawn(process.execPath, [cli, "token", "create", "--site", "demo"], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    cmd.stdout.on("data", (d: Buffer) => (out += d.toString()));
    cmd.once("exit", (code) => {
      const token = /^pq_\S+$/m.exec(out)?.[0];
      if (code === 0 && token) resolve(token);
      else reject(new Error(`pulse token create failed (${code}): ${out}`));
    });
  });

const report = (from: string, to: string, token: string): Promise<Record<string, unknown>[]> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const rows: Record<string, unknown>[] = [];
    ws.on("open", () => ws.send(JSON.stringify({ op: "query", id: "demo", query: { site: "demo", from, to, metrics: ["pageviews", "visitors", "sessions"], dimensions: ["date"] } })));
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; rows?: Record<string, unknown>[]; error?: { message: string } };
      if (m.type === "rows") rows.push(...(m.rows ?? []));
      if (m.type === "error") reject(new Error(m.error?.message));
      if (m.type === "done") {
        ws.close();
        resolve(rows);
      }
    });
    ws.on("error", reject);
  });

const main = async (): Promise<void> => {
  await waitReady();
  const now = Date.now();
  say("sending synthetic traffic: 500 visitors over the last 7 days");
  const sent = await sendTraffic({ url: base, site: "demo", visitors: 500, days: 7, concurrency: 16, now, seed: now % 100_000 }, (d, t) => say(`  ${d}/${t} visitors sent`));
  say(`${sent.accepted} events accepted in ${sent.ms} ms (${sent.failed} failed)`);
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  // Give the worker a moment to project the last batches.
  await new Promise((r) => setTimeout(r, 1500));
  const token = await demoToken();
  const rows = await report(day(now - 7 * 86_400_000), day(now), token);
  console.log("\n  date         pageviews  visitors  sessions");
  for (const r of rows) console.log(`  ${String(r["date"])}  ${String(r["pageviews"]).padStart(9)}  ${String(r["visitors"]).padStart(8)}  ${String(r["sessions"]).padStart(8)}`);
  console.log(`
Pulse is running on the embedded defaults.
  open        ${base}/?token=${token}
              live report of site "demo" (refreshes every 5 s)
  send        curl -X POST ${base}/collect -H 'content-type: application/json' \\
                -d '{"site":"demo","name":"pageview","url":"https://demo.example/","visitor":"me"}'
  query       WebSocket ws://127.0.0.1:${port}/ws?token=${token} (or Authorization: Bearer), send
                {"op":"query","id":"q1","query":{"site":"demo","from":"${day(now - 7 * 86_400_000)}","to":"${day(now)}","dimensions":["date"]}}
  health      ${base}/healthz  ${base}/readyz
${once ? "" : "Ctrl-C stops Pulse (it drains first).\n"}`);
  if (once) await stop();
};

process.on("SIGINT", () => void stop());
main().catch(async (e: unknown) => {
  console.error(`demo: ${(e as Error).message}`);
  child.kill("SIGTERM");
  await exited;
  process.exit(1);
});
