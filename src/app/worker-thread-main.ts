import { parentPort, workerData } from "node:worker_threads";
import type { PulseConfig } from "../config/config.js";
import { startPulse } from "./pulse.js";
import type { ThreadMessage } from "./worker-thread.js";

// The entry of the thread started by startWorkerThread: the worker role alone, stopped on request.
const port = parentPort;
if (!port) throw new Error("worker-thread-main runs only as a worker thread");
const post = (m: ThreadMessage): void => port.postMessage(m);
const { config } = workerData as { config: PulseConfig };
try {
  const running = await startPulse(config, ["worker"], (line) => post({ say: line }));
  port.on("message", (m) => {
    if (m !== "stop") return;
    running.stop().then(
      () => {
        post({ stopped: true });
        port.close();
      },
      (e: unknown) => {
        post({ say: `worker thread stop failed: ${(e as Error).message}` });
        post({ stopped: true });
        port.close();
      },
    );
  });
  post({ ready: true });
} catch (e) {
  post({ failed: (e as Error).message });
  port.close();
}
