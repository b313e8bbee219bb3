import { afterAll, beforeAll, expect, it } from "vitest";
import { postJson, startTestPulse, type TestPulse } from "../harness/pulse.js";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startTestPulse({ log: "jetstream", env: { PULSE_SITE_RATE_LIMIT: "50" } });
});
afterAll(() => pulse?.dispose());

it("answers 429 with Retry-After to a site over its limit while another site's events still land", async () => {
  const send = (site: string, n: number, tag: string) =>
    postJson(`${pulse.url}/collect`, { site, events: Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, name: "pageview", url: "https://x.example/", visitor: `${tag}-v` })) });
  // The flood: the burst (100 events) passes, the rest is refused.
  const flood = [];
  for (let i = 0; i < 6; i++) flood.push(await send("site-a", 40, `flood${i}`));
  const refused = flood.filter((r) => r.status === 429);
  expect(refused.length).toBeGreaterThan(0);
  expect(refused[0]?.headers.get("retry-after")).toMatch(/^\d+$/);
  expect((refused[0]?.json["error"] as { code: string }).code).toBe("rate_limited");
  // The other site is untouched.
  const other = await send("site-b", 10, "calm");
  expect(other.status).toBe(202);
  await expect.poll(async () => (await pulse.log.readVisitor("site-b", "calm-v", 0)).length, { timeout: 20_000 }).toBe(10);
  // Refused events were not stored.
  const acceptedFlood = flood.filter((r) => r.status === 202).length * 40;
  await expect.poll(() => pulse.log.count("site-a"), { timeout: 20_000 }).toBe(acceptedFlood);
});
