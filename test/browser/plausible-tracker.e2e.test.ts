import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, startTestPulse, type TestPulse } from "../harness/pulse.js";
import { html, launchChromium, startPageServer, storedEvents, type PageServer } from "./harness.js";

/**
 * Plausible's own npm tracker (@plausible-analytics/tracker), unmodified and unbundled, in a real
 * browser, pointed at Pulse's Plausible endpoint `POST /api/event` with domain "site-a".
 */

// The package's ESM build, served to the page as it is.
const PLAUSIBLE_JS = readFileSync(createRequire(import.meta.url).resolve("@plausible-analytics/tracker"));

let pulse: TestPulse;
let browser: Browser;
let pages: PageServer;

beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", sites: "site-a" });
  browser = await launchChromium();
  pages = await startPageServer((path) => {
    if (path === "/vendor/plausible.js") return { type: "text/javascript; charset=utf-8", body: PLAUSIBLE_JS };
    if (path === "/" || path === "/pricing")
      return html(`
<script>
  // The tracker stays silent when navigator.webdriver is set (as under any automation) unless this is.
  window.__plausible = true;
</script>
<script type="module">
  import { init, track } from "/vendor/plausible.js";
  init({ domain: "site-a", endpoint: ${JSON.stringify(`${pulse.url}/api/event`)}, captureOnLocalhost: true, logging: false });
  window.track = track;
</script>
<h1>plausible</h1>`);
    return undefined;
  });
});

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await pulse?.dispose();
});

it("takes a page view and a custom event from Plausible's tracker", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const endpoint = `${pulse.url}/api/event`;
  const pageview = page.waitForResponse((r) => r.url() === endpoint && (r.request().postData() ?? "").includes(`"n":"pageview"`));
  await page.goto(`${pages.url}/pricing?ref=test`);
  const answer = await pageview;
  expect(answer.status(), await answer.text()).toBeLessThan(300);

  await page.waitForFunction("typeof window.track === 'function'");
  const result = await page.evaluate(`new Promise((r) => window.track("signup", { props: { plan: "pro" }, callback: r }))`);
  expect(result).toMatchObject({ status: expect.any(Number) });
  expect((result as { status: number }).status).toBeLessThan(300);

  const events = await eventually(
    () => storedEvents(pulse, "site-a"),
    (es) => es.some((e) => e.name === "signup") && es.some((e) => e.name === "pageview"),
  );
  const pv = events.find((e) => e.name === "pageview");
  const signup = events.find((e) => e.name === "signup");
  expect(pv).toMatchObject({ url: `${pages.url}/pricing?ref=test`, path: "/pricing" });
  expect(signup).toMatchObject({ url: `${pages.url}/pricing?ref=test`, path: "/pricing" });
  expect(signup?.props["plan"]).toBe("pro");
  await context.close();
});
