import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import type { TestPulse } from "../harness/pulse.js";

/** Debian's Chromium, installed by infra/provision/chromium.sh (a step of `make test`). */
export const CHROMIUM = "/usr/bin/chromium";

export const launchChromium = (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run infra/provision/chromium.sh (\`make test\` runs it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
};

export interface Resource {
  readonly type: string;
  readonly body: string | Buffer;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the origin of the test pages, another origin than Pulse's. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A small HTTP server for test pages on a free 127.0.0.1 port; `route` maps a path (without query) to what to serve, or undefined for 404. */
export const startPageServer = async (route: (path: string) => Resource | undefined): Promise<PageServer> => {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const found = req.method === "GET" ? route(path) : undefined;
    if (!found) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": found.type, "cache-control": "no-store" }).end(found.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export const html = (body: string): Resource => ({ type: "text/html; charset=utf-8", body: `<!doctype html><html><head><meta charset="utf-8"><title>test</title></head><body>${body}</body></html>` });

export interface StoredEvent {
  readonly name: string;
  readonly url: string;
  readonly path: string;
  readonly referrer: string;
  readonly props: Record<string, unknown>;
}

/** Every event of `site` in the report table, in event order. */
export const storedEvents = async (pulse: TestPulse, site: string): Promise<StoredEvent[]> => {
  const store = pulse.store;
  if (!store) throw new Error("this Pulse runs no analytics store");
  const rows = await store.query<{ name: string; url: string; path: string; referrer: string; props: string }>(
    `SELECT name, url, path, referrer, props FROM ${store.database}.events FINAL WHERE site = {site:String} ORDER BY ts, seq`,
    { site },
  );
  return rows.map((r) => ({ ...r, props: JSON.parse(r.props) as Record<string, unknown> }));
};

/**
 * A script for `page.evaluate` that hides the page as a tab switch would: visibilityState becomes
 * "hidden" and visibilitychange fires (or the reverse). A string: the tests are not compiled with DOM types.
 */
export const setVisibility = (state: "hidden" | "visible"): string => `(() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => ${JSON.stringify(state)} });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => ${state === "hidden"} });
  document.dispatchEvent(new Event("visibilitychange"));
})()`;
