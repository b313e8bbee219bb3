import { Unavailable } from "../core/errors.js";

/**
 * Concurrent queries per query token, over every socket and HTTP request that uses it: a
 * running query counts until the store has finished it (even if cancelled), a subscription
 * until it ends.
 */
export class QueryLimits {
  private readonly running = new Map<string, number>();

  constructor(private readonly maxPerToken: number) {}

  /** Takes a slot for `token`, or throws `too_many_queries`, which a retry after others finish can pass. */
  acquire(token: string): void {
    const n = this.running.get(token) ?? 0;
    if (n >= this.maxPerToken)
      throw new Unavailable("too_many_queries", `this token already has ${n} queries running or subscribed (at most ${this.maxPerToken}); retry when one finishes`, 1);
    this.running.set(token, n + 1);
  }

  release(token: string): void {
    const n = (this.running.get(token) ?? 0) - 1;
    if (n > 0) this.running.set(token, n);
    else this.running.delete(token);
  }
}
