import { describe, expect, it } from "vitest";
import { createReferrerSpamFilter, isReferrerSpam } from "./referrer-spam.js";

describe("isReferrerSpam", () => {
  it.each(["semalt.com", "buttons-for-website.com", "darodar.com", "ilovevitaly.com", "priceg.com", "hulfingtonpost.com", "best-seo-offer.com"])(
    "%s is spam",
    (host) => {
      expect(isReferrerSpam(host)).toBe(true);
    },
  );

  it("matches any subdomain of a listed host", () => {
    expect(isReferrerSpam("www.semalt.com")).toBe(true);
    expect(isReferrerSpam("semalt.semalt.com")).toBe(true);
    expect(isReferrerSpam("forum.topic12345.darodar.com")).toBe(true);
  });

  it("normalizes case, trailing dot, port and a whole URL", () => {
    expect(isReferrerSpam("SEMALT.COM")).toBe(true);
    expect(isReferrerSpam("semalt.com.")).toBe(true);
    expect(isReferrerSpam("semalt.com:8080")).toBe(true);
    expect(isReferrerSpam("https://www.priceg.com/some/page?x=1")).toBe(true);
    expect(isReferrerSpam("priceg.com/some/page")).toBe(true);
  });

  it.each(["", "google.com", "www.huffingtonpost.com", "notsemalt.com", "semalt.com.example.org", "com", "news.ycombinator.com", "http://"])(
    "%j is not spam",
    (host) => {
      expect(isReferrerSpam(host)).toBe(false);
    },
  );
});

describe("createReferrerSpamFilter", () => {
  it("adds a site's own hosts to the built-in list", () => {
    const spam = createReferrerSpamFilter(["Spam-Referrer.Example", "https://bad.example.net/"]);
    expect(spam("spam-referrer.example")).toBe(true);
    expect(spam("a.b.spam-referrer.example")).toBe(true);
    expect(spam("bad.example.net")).toBe(true);
    expect(spam("example.net")).toBe(false);
    expect(spam("semalt.com")).toBe(true);
    expect(isReferrerSpam("spam-referrer.example")).toBe(false);
  });
});
