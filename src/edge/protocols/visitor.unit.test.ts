import { describe, expect, it } from "vitest";
import { parseNativeCollect, type RequestContext } from "./native.js";
import { derivedVisitor } from "./visitor.js";

const ctx = (receivedAt: number, ip = "203.0.113.7", userAgent = "Mozilla/5.0 (test)", visitorSalt = "salt-1"): RequestContext => ({
  receivedAt,
  ip,
  userAgent,
  visitorSalt,
  nextSeq: () => 1,
  isKnownSite: () => true,
});

const native = (c: RequestContext, site = "example.com"): string | undefined =>
  parseNativeCollect({ site, name: "pageview", url: "https://example.com/" }, c).accepted[0]?.visitor;

describe("derivedVisitor", () => {
  it("gives the id the native protocol derives for the same caller", () => {
    const times = [Date.UTC(2026, 2, 10, 0, 0, 0), Date.UTC(2026, 2, 10, 23, 59, 59, 999), Date.UTC(2026, 2, 11)];
    for (const t of times) {
      for (const c of [ctx(t), ctx(t, "2001:db8::1"), ctx(t, "203.0.113.7", "curl/8"), ctx(t, "203.0.113.7", "ua", "salt-2")]) {
        expect(derivedVisitor("example.com", c)).toBe(native(c));
        expect(derivedVisitor("shop.example", c)).toBe(native(c, "shop.example"));
      }
    }
  });

  it("changes at midnight UTC and with the site", () => {
    const day = Date.UTC(2026, 2, 10);
    const v = derivedVisitor("example.com", ctx(day));
    expect(derivedVisitor("example.com", ctx(day + 86_399_999))).toBe(v);
    expect(derivedVisitor("example.com", ctx(day + 86_400_000))).not.toBe(v);
    expect(derivedVisitor("shop.example", ctx(day))).not.toBe(v);
    expect(v).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
