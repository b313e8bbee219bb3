import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AckedSummary, DriverMessage, GeneratorMessage, PhaseSpec, PhaseStats } from "./protocol.js";

const SCRIPT = fileURLToPath(new URL("./generator.js", import.meta.url));

/** The driver's handle on a load generator process. */
export class LoadGenerator {
  private waiting: ((m: GeneratorMessage) => void) | undefined;
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (m: unknown) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m as GeneratorMessage);
    });
    child.once("exit", (code) => {
      this.exited = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ type: "error", message: `load generator exited with ${String(code)}` });
    });
  }

  /** Starts a generator process; `execArgv` e.g. `--cpu-prof` flags. */
  static async start(execArgv: readonly string[] = []): Promise<LoadGenerator> {
    const child = fork(SCRIPT, [], { execArgv: [...execArgv], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const gen = new LoadGenerator(child);
    const first = await gen.next();
    if (first.type !== "ready") throw new Error(`load generator did not start: ${JSON.stringify(first)}`);
    return gen;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private next(): Promise<GeneratorMessage> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  private async ask(m: DriverMessage): Promise<GeneratorMessage> {
    if (this.exited) throw new Error("load generator is not running");
    const answer = this.next();
    this.child.send(m);
    const got = await answer;
    if (got.type === "error") throw new Error(`load generator: ${got.message}`);
    return got;
  }

  /** Starts a fresh visitor population whose event ids are `${tag}-n`. */
  reset(tag: string, seed: number): void {
    this.child.send({ type: "reset", tag, seed } satisfies DriverMessage);
  }

  async run(spec: PhaseSpec): Promise<PhaseStats> {
    const m = await this.ask({ type: "run", spec });
    if (m.type !== "result") throw new Error(`unexpected answer ${m.type}`);
    return m.stats;
  }

  /** Writes the acknowledged id ranges to `file`. */
  async acked(file: string): Promise<AckedSummary> {
    const m = await this.ask({ type: "acked", file });
    if (m.type !== "acked") throw new Error(`unexpected answer ${m.type}`);
    return m.summary;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "exit" } satisfies DriverMessage);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  }
}
