import { readFileSync } from "node:fs";
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { html, launchChromium, setVisibility, startPageServer, storedEvents, type PageServer, type StoredEvent } from "./harness.js";

/**
 * Our tracker in a real browser: Debian's Chromium loads a page from a test server on one origin,
 * the page loads pulse.js from Pulse's edge on another, and what the tracker sends must land in
 * the report table with the right names, URLs and props.
 */

const TRACKER_SOURCE = readFileSync(new URL("../../src/edge/tracker/pulse.js", import.meta.url));

let pulse: TestPulse;
let browser: Browser;
let pages: PageServer;

// The snippet a site owner pastes: the queue stub, a call made before the tracker has loaded, then the tracker.
const trackedPage = (site: string, opts: { allowLocalhost: boolean; preventOutbound: boolean }): string =>
  html(`
<script>window.pulse=window.pulse||function(){(window.pulse.q=window.pulse.q||[]).push(arguments)}</script>
<script>pulse("queued", { props: { early: true } })</script>
<script defer data-site="${site}" data-api="${pulse.url}/collect"${opts.allowLocalhost ? " data-allow-localhost" : ""} src="${pulse.url}/pulse.js"></script>
<h1>tracked</h1>
<a id="out" href="http://localhost:${pages.port}/landing"${opts.preventOutbound ? ` onclick="return false"` : ""}>elsewhere</a>
<a id="in" href="/next">here</a>`).body as string;

beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: "site-a,site-b,site-c" });
  browser = await launchChromium();
  pages = await startPageServer((path) => {
    if (path === "/" || path === "/next") return { type: "text/html; charset=utf-8", body: trackedPage("site-a", { allowLocalhost: true, preventOutbound: false }) };
    if (path === "/optout") return { type: "text/html; charset=utf-8", body: trackedPage("site-b", { allowLocalhost: true, preventOutbound: true }) };
    if (path === "/no-localhost") return { type: "text/html; charset=utf-8", body: trackedPage("site-c", { allowLocalhost: false, preventOutbound: true }) };
    if (path === "/landing") return html("<h1>another site</h1>");
    return undefined;
  });
});

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await pulse?.dispose();
});

/** The bodies of the requests the page sends to Pulse's /collect, fetch and sendBeacon alike. */
const collectRequests = (page: Page): string[] => {
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url() === `${pulse.url}/collect`) sent.push(r.postData() ?? "");
  });
  return sent;
};

/** Waits until pulse.js has run (the stub is replaced by the tracker); fails naming the URL it came from. */
const trackerLoaded = async (page: Page): Promise<void> => {
  try {
    await page.waitForFunction("window.pulse && window.pulse.pulse === 1", undefined, { timeout: 10_000 });
  } catch (e) {
    throw new Error(`pulse.js did not run; is it served at ${pulse.url}/pulse.js? ${(e as Error).message}`);
  }
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (events: readonly StoredEvent[]): string[] => events.map((e) => `${e.name} ${e.path}`).sort();

describe("GET /pulse.js on the edge", () => {
  const get = (headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = request(`${pulse.url}/pulse.js`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end();
    });

  it("serves the tracker, gzipped when accepted, cacheable, with an ETag that answers 304", async () => {
    const plain = await get({});
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toMatch(/^application\/javascript/);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers["cache-control"]).toBe("public, max-age=3600");
    expect(plain.headers["access-control-allow-origin"]).toBe("*");
    expect(plain.body.equals(TRACKER_SOURCE)).toBe(true);

    const zipped = await get({ "accept-encoding": "br, gzip;q=0.8" });
    expect(zipped.status).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers["vary"]).toBe("Accept-Encoding");
    expect(gunzipSync(zipped.body).equals(TRACKER_SOURCE)).toBe(true);
    expect(zipped.body.length).toBeLessThan(2048);

    const refused = await get({ "accept-encoding": "gzip;q=0" });
    expect(refused.headers["content-encoding"]).toBeUndefined();

    const etag = plain.headers["etag"];
    expect(typeof etag).toBe("string");
    expect(zipped.headers["etag"]).toBe(etag);
    const again = await get({ "if-none-match": etag as string, "accept-encoding": "gzip" });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers["etag"]).toBe(etag);
    expect((await get({ "if-none-match": `"something-else"` })).status).toBe(200);
  });
});

describe("pulse.js in Chromium", () => {
  it("sends page views (load, pushState, popstate), queued and custom events, outbound clicks and engagement", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const sent = collectRequests(page);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    const landed = page.waitForResponse((r) => r.url() === `${pulse.url}/collect` && (r.request().postData() ?? "").includes(`"pageview"`));
    await page.goto(`${pages.url}/`);
    await trackerLoaded(page);
    expect((await landed).status()).toBe(202);
    await pause(20); // engagement is reported only for visible time above 0 ms

    // Single-page navigation: a new path is a page view; the same path with another query is not.
    await page.evaluate(`history.pushState({}, "", "/next")`);
    await pause(20);
    await page.evaluate(`history.replaceState({}, "", "/next?tab=2")`);
    const popped = `new Promise((r) => { addEventListener("popstate", () => setTimeout(r, 0), { once: true }); history.%s(); })`;
    await page.evaluate(popped.replace("%s", "back"));
    expect(new URL(page.url()).pathname).toBe("/");
    await pause(20);
    await page.evaluate(popped.replace("%s", "forward"));
    expect(page.url()).toBe(`${pages.url}/next?tab=2`);

    const result = await page.evaluate(`new Promise((r) => pulse("signup", { props: { plan: "pro" }, callback: r }))`);
    expect(result).toEqual({ status: 202 });

    // A tab switch: hidden reports the visible time, visible starts counting again.
    await pause(20);
    await page.evaluate(setVisibility("hidden"));
    await page.evaluate(setVisibility("visible"));
    await pause(20);

    // Leaving for another host: the click is reported, and so is the engagement at pagehide.
    await Promise.all([page.waitForURL(`http://localhost:${pages.port}/landing`), page.click("#out")]);

    const expected = [
      "engagement /", // left for /next
      "engagement /", // left for /next?tab=2 by forward()
      "engagement /next", // left for / by back()
      "engagement /next", // hidden
      "engagement /next", // pagehide on the way out
      "outbound /next",
      "pageview /",
      "pageview /",
      "pageview /next",
      "pageview /next",
      "queued /",
      "signup /next",
    ];
    const events = await eventually(
      () => storedEvents(pulse, "site-a"),
      (es) => es.length >= expected.length,
    );
    expect(summary(events), `sent: ${sent.join("\n")}`).toEqual(expected);
    expect(errors).toEqual([]);

    const byName = (name: string) => events.filter((e) => e.name === name);
    // Sorted: without a client time, events are ordered by when the edge received them, and a beacon may overtake a fetch.
    const urls = (name: string) => byName(name).map((e) => e.url.slice(pages.url.length)).sort();
    expect(urls("pageview")).toEqual(["/", "/", "/next", "/next?tab=2"]);
    expect(byName("queued")[0]?.props).toEqual({ early: true });
    expect(byName("signup")[0]).toMatchObject({ url: `${pages.url}/next?tab=2`, props: { plan: "pro" } });
    expect(byName("outbound")[0]).toMatchObject({ url: `${pages.url}/next?tab=2`, props: { url: `http://localhost:${pages.port}/landing` } });
    for (const e of byName("engagement")) {
      expect(Object.keys(e.props)).toEqual(["engaged_ms"]);
      expect(e.props["engaged_ms"]).toBeGreaterThan(0);
      expect(e.props["engaged_ms"]).toBeLessThan(60_000);
    }
    // The engagement of a page is reported under that page's URL, not the next one's.
    expect(urls("engagement")).toEqual(["/", "/", "/next", "/next?tab=2", "/next?tab=2"]);
    for (const e of events) expect(e.referrer).toBe("");
    await context.close();
  });

  it("sends nothing while localStorage.pulse_ignore is \"true\", window.pulse included", async () => {
    const context = await browser.newContext();
    await context.addInitScript(`localStorage.setItem("pulse_ignore", "true")`);
    const page = await context.newPage();
    const sent = collectRequests(page);

    await page.goto(`${pages.url}/optout`);
    await trackerLoaded(page);
    await page.evaluate(`history.pushState({}, "", "/optout/next")`);
    // An ignored call still answers its callback, without a result.
    expect(await page.evaluate(`new Promise((r) => pulse("signup", { props: { plan: "pro" }, callback: () => r("ignored") }))`)).toBe("ignored");
    await pause(20);
    await page.evaluate(setVisibility("hidden"));
    await page.evaluate(setVisibility("visible"));
    await page.click("#out");
    await pause(300);
    expect(sent).toEqual([]);

    // Control: the same page, opted back in, is heard; once its event is stored, nothing else of this visitor is.
    await page.evaluate(`localStorage.removeItem("pulse_ignore")`);
    expect(await page.evaluate(`new Promise((r) => pulse("control", { callback: r }))`)).toEqual({ status: 202 });
    const events = await eventually(
      () => storedEvents(pulse, "site-b"),
      (es) => es.length > 0,
    );
    await pause(300);
    expect(summary(await storedEvents(pulse, "site-b"))).toEqual(["control /optout/next"]);
    expect(events).toHaveLength(1);
    expect(sent).toHaveLength(1);
    await context.close();
  });

  it("ignores localhost without data-allow-localhost", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const sent = collectRequests(page);
    await page.goto(`${pages.url}/no-localhost`);
    await trackerLoaded(page);
    await page.evaluate(`history.pushState({}, "", "/no-localhost/next")`);
    expect(await page.evaluate(`new Promise((r) => pulse("signup", { callback: () => r("ignored") }))`)).toBe("ignored");
    await page.click("#out");
    await pause(300);
    expect(sent).toEqual([]);
    expect(await storedEvents(pulse, "site-c")).toEqual([]);
    await context.close();
  });
});
