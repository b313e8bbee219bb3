import { Unavailable } from "../core/errors.js";

export interface RateLimit {
  /** Events a site may send per second, sustained. */
  readonly perSecond: number;
  /** Events a site may send at once above the sustained rate. */
  readonly burst: number;
}

/**
 * Per-site token buckets. One site's flood is refused with 429 and Retry-After
 * while other sites' events keep flowing. The clock is injected, so tests need no waiting.
 */
export class SiteRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {}

  /** Takes `events` tokens from the site's bucket or throws a retryable 429 error saying when to come back. */
  take(site: string, events: number): void {
    const t = this.now();
    const b = this.buckets.get(site) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(site, b);
    if (b.tokens < events) {
      const wait = Math.max(1, Math.ceil((events - b.tokens) / this.limit.perSecond));
      throw new Unavailable("rate_limited", `site "${site}" is over its limit of ${this.limit.perSecond} events/s`, wait);
    }
    b.tokens -= events;
  }
}
