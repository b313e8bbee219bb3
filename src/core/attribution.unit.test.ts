import { describe, expect, it } from "vitest";
import { attribute } from "./attribution.js";

describe("attribute", () => {
  it.each([
    ["https://a.example/?utm_source=news&utm_medium=email&utm_campaign=nov", "https://www.google.com/", { source: "news", medium: "email", campaign: "nov" }],
    ["https://a.example/?utm_source=news", "", { source: "news", medium: "(not set)", campaign: "(not set)" }],
    ["https://a.example/?gclid=abc", "https://www.google.com/", { source: "google", medium: "cpc", campaign: "(not set)" }],
    ["https://a.example/?msclkid=x&utm_campaign=spring", "", { source: "bing", medium: "cpc", campaign: "spring" }],
    ["https://a.example/", "https://www.google.co.uk/search?q=x", { source: "google", medium: "organic", campaign: "(organic)" }],
    ["https://a.example/", "https://duckduckgo.com/", { source: "duckduckgo", medium: "organic", campaign: "(organic)" }],
    ["https://a.example/", "https://news.ycombinator.com/item?id=1", { source: "news.ycombinator.com", medium: "referral", campaign: "(referral)" }],
    ["https://a.example/", "https://www.twitter.com/", { source: "twitter.com", medium: "referral", campaign: "(referral)" }],
    ["https://a.example/", "", { source: "(direct)", medium: "(none)", campaign: "(direct)" }],
    ["https://a.example/b", "https://www.a.example/a", { source: "(direct)", medium: "(none)", campaign: "(direct)" }],
    ["https://a.example/", "not a url", { source: "(direct)", medium: "(none)", campaign: "(direct)" }],
  ])("%s from %j", (url, referrer, expected) => {
    expect(attribute(url, referrer)).toEqual(expected);
  });

  it("does not take a look-alike host for a search engine", () => {
    expect(attribute("https://a.example/", "https://notgoogle.example/").medium).toBe("referral");
    expect(attribute("https://a.example/", "https://google.evil.example/").medium).toBe("referral");
  });
});
