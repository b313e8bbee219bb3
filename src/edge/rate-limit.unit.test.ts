import { expect, it } from "vitest";
import { Unavailable } from "../core/errors.js";
import { SiteRateLimiter } from "./rate-limit.js";

const refused = (f: () => void): Unavailable => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Unavailable);
    return e as Unavailable;
  }
  throw new Error("expected a refusal");
};

it("lets a burst through, then refuses with a Retry-After, per site", () => {
  let now = 0;
  const limiter = new SiteRateLimiter({ perSecond: 10, burst: 20 }, () => now);
  limiter.take("a", 20);
  const e = refused(() => limiter.take("a", 5));
  expect([e.code, e.retryAfterSeconds]).toEqual(["rate_limited", 1]);
  // Another site has its own bucket.
  limiter.take("b", 20);
  // Tokens come back at the sustained rate.
  now += 500;
  limiter.take("a", 5);
  expect(refused(() => limiter.take("a", 1)).code).toBe("rate_limited");
});

it("asks for a longer wait when the request is far over the rate", () => {
  const limiter = new SiteRateLimiter({ perSecond: 10, burst: 10 }, () => 0);
  limiter.take("a", 10);
  expect(refused(() => limiter.take("a", 45)).retryAfterSeconds).toBe(5);
});
