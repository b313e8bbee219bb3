import { expect, it } from "vitest";
import { Unavailable } from "../core/errors.js";
import { QueryLimits } from "./limits.js";

it("allows at most N queries per token and frees a slot on release", () => {
  const limits = new QueryLimits(2);
  limits.acquire("a");
  limits.acquire("a");
  limits.acquire("b");
  let refused: unknown;
  try {
    limits.acquire("a");
  } catch (e) {
    refused = e;
  }
  expect(refused).toBeInstanceOf(Unavailable);
  expect(refused).toMatchObject({ code: "too_many_queries", retryable: true });
  limits.release("a");
  limits.acquire("a");
});
