import { Worker } from "node:worker_threads";
import type { PulseConfig } from "../config/config.js";

/** What the worker thread tells the thread that started it. */
export type ThreadMessage = { readonly say: string } | { readonly ready: true } | { readonly failed: string } | { readonly stopped: true };

export interface WorkerThread {
  /** Drains the thread's worker (as `Worker.stop` does) and ends the thread. */
  stop(): Promise<void>;
}

/**
 * Runs the worker role on a thread of its own, with its own NATS connections, so that its
 * steps, sweeps and GC pauses do not hold up the edge's answers, and the process can use a
 * second core. `config.natsUrl` must be set: the thread joins the parent's nats-server.
 */
export const startWorkerThread = (config: PulseConfig, say: (line: string) => void): Promise<WorkerThread> =>
  new Promise((resolve, reject) => {
    const thread = new Worker(new URL("./worker-thread-main.js", import.meta.url), { workerData: { config } });
    let stopped: (() => void) | undefined;
    let started = false;
    let stopping = false;
    const ended = new Promise<void>((done) => thread.once("exit", () => done()));
    thread.on("message", (m: ThreadMessage) => {
      if ("say" in m) say(m.say);
      else if ("ready" in m) {
        started = true;
        resolve({
          stop: async () => {
            await new Promise<void>((done) => {
              stopped = done;
              stopping = true;
              thread.postMessage("stop");
            });
            await ended;
          },
        });
      } else if ("failed" in m) reject(new Error(`the worker thread did not start: ${m.failed}`));
      else stopped?.();
    });
    thread.once("error", (e) => {
      say(`worker thread failed: ${e.message}`);
      reject(e);
      // As when the worker ran on the main thread: a failure nobody handles ends the process, whose supervisor restarts it.
      if (started && !stopping)
        setImmediate(() => {
          throw e;
        });
      stopped?.();
    });
  });
