import { describe, expect, it } from "vitest";
import { attribute } from "../core/attribution.js";
import { defaultChannelGroup, siteCategory, type Channel } from "./channel.js";

const a = (source: string, medium: string, campaign = "(not set)") => ({ source, medium, campaign });

describe("defaultChannelGroup", () => {
  it.each<[Channel, ReturnType<typeof a>]>([
    ["Direct", a("(direct)", "(none)", "(direct)")],
    ["Direct", a("(direct)", "(not set)")],
    ["Cross-network", a("google", "cpc", "pmax cross-network")],
    ["Paid Shopping", a("amazon", "cpc")],
    ["Paid Shopping", a("newsletter", "cpc", "spring-shop")],
    ["Paid Search", a("google", "cpc")],
    ["Paid Search", a("bing", "ppc")],
    ["Paid Search", a("duckduckgo", "paidsearch")],
    ["Paid Search", a("google", "cpm")],
    ["Paid Social", a("facebook", "cpc")],
    ["Paid Social", a("ig", "paid_social")],
    ["Paid Social", a("linkedin.com", "retargeting")],
    ["Paid Video", a("youtube", "cpv")],
    ["Display", a("adnetwork", "display")],
    ["Display", a("adnetwork", "banner")],
    ["Display", a("adnetwork", "cpm")],
    ["Paid Other", a("partner-site", "cpc")],
    ["Paid Other", a("podcast", "paid")],
    ["Organic Shopping", a("amazon.de", "referral", "(referral)")],
    ["Organic Shopping", a("newsletter", "(not set)", "eshop launch")],
    ["Organic Social", a("l.facebook.com", "referral", "(referral)")],
    ["Organic Social", a("t.co", "referral", "(referral)")],
    ["Organic Social", a("x.com", "referral", "(referral)")],
    ["Organic Social", a("reddit.com", "referral", "(referral)")],
    ["Organic Social", a("news.ycombinator.com", "referral", "(referral)")],
    ["Organic Social", a("mastodon-post", "social")],
    ["Organic Social", a("partner", "social media")],
    ["Organic Social", a("partner", "sm")],
    ["Organic Video", a("youtube.com", "referral", "(referral)")],
    ["Organic Video", a("vimeo", "(not set)")],
    ["Organic Video", a("partner", "video")],
    ["Organic Search", a("google", "organic", "(organic)")],
    ["Organic Search", a("google.co.uk", "referral", "(referral)")],
    ["Organic Search", a("ecosia.org", "referral", "(referral)")],
    ["Organic Search", a("my-search-portal", "organic")],
    ["Referral", a("example.org", "referral", "(referral)")],
    ["Referral", a("mail.google.com", "referral", "(referral)")],
    ["Referral", a("partner", "link")],
    ["Referral", a("com.example.app", "app")],
    ["Email", a("newsletter", "email", "november")],
    ["Email", a("crm", "e-mail")],
    ["Email", a("crm", "e_mail")],
    ["Email", a("crm", "e mail")],
    ["Email", a("email", "(not set)")],
    ["Affiliates", a("partner", "affiliate")],
    ["Audio", a("spotify-ad", "audio")],
    ["SMS", a("sms", "(not set)")],
    ["SMS", a("carrier", "sms")],
    ["Mobile Push Notifications", a("app", "web-push")],
    ["Mobile Push Notifications", a("firebase", "(not set)")],
    ["Unassigned", a("spring_sale", "(not set)")],
    ["Unassigned", a("foo", "bar")],
    ["Unassigned", a("(not set)", "(not set)")],
    // Direct needs both source (direct) and medium (none): anything else goes by its medium.
    ["Referral", a("(direct)", "referral")],
  ])("%s: %j", (channel, attribution) => {
    expect(defaultChannelGroup(attribution)).toBe(channel);
  });

  it("ignores case and surrounding spaces, as GA4's rules do", () => {
    expect(defaultChannelGroup(a("Google", "CPC"))).toBe("Paid Search");
    expect(defaultChannelGroup(a(" Newsletter ", " Email "))).toBe("Email");
    expect(defaultChannelGroup(a("(DIRECT)", "(None)"))).toBe("Direct");
  });

  it("does not take look-alike hosts for known sites", () => {
    expect(defaultChannelGroup(a("notgoogle.com", "referral"))).toBe("Referral");
    expect(defaultChannelGroup(a("google.evil.example", "referral"))).toBe("Referral");
    expect(defaultChannelGroup(a("facebook.com.evil.example", "referral"))).toBe("Referral");
    expect(defaultChannelGroup(a("youtube.co", "referral"))).toBe("Referral");
  });

  it("falls back to the referrer host only when the source is missing", () => {
    expect(defaultChannelGroup(a("(not set)", "referral"), "l.facebook.com")).toBe("Organic Social");
    expect(defaultChannelGroup(a("", "cpc"), "www.google.com")).toBe("Paid Search");
    // GA4 classifies by source: a tagged source wins over where the click came from.
    expect(defaultChannelGroup(a("spring_sale", "(not set)"), "l.facebook.com")).toBe("Unassigned");
    expect(defaultChannelGroup(a("(direct)", "(none)"), "www.google.com")).toBe("Direct");
  });

  it.each<[string, string, Channel]>([
    ["https://shop.example/", "", "Direct"],
    ["https://shop.example/", "https://www.google.de/", "Organic Search"],
    ["https://shop.example/?gclid=abc", "https://www.google.com/", "Paid Search"],
    ["https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=nov", "", "Email"],
    ["https://shop.example/?utm_source=facebook&utm_medium=paid_social", "https://l.facebook.com/", "Paid Social"],
    ["https://shop.example/", "https://l.facebook.com/", "Organic Social"],
    ["https://shop.example/", "https://m.youtube.com/", "Organic Video"],
    ["https://shop.example/", "https://blog.example.org/post", "Referral"],
    ["https://shop.example/?utm_source=partner&utm_medium=affiliate", "", "Affiliates"],
  ])("from attribute(%j, %j): %s", (url, referrer, channel) => {
    expect(defaultChannelGroup(attribute(url, referrer), referrer === "" ? "" : new URL(referrer).hostname)).toBe(channel);
  });
});

describe("siteCategory", () => {
  it.each([
    ["google", "search"],
    ["www.google.com.br", "search"],
    ["search.yahoo.co.jp", "search"],
    ["yandex.ru", "search"],
    ["baidu.com", "search"],
    ["search.brave.com", "search"],
    ["facebook", "social"],
    ["lm.facebook.com", "social"],
    ["instagram.com", "social"],
    ["lnkd.in", "social"],
    ["pinterest.de", "social"],
    ["tiktok.com", "social"],
    ["youtu.be", "video"],
    ["player.vimeo.com", "video"],
    ["twitch.tv", "video"],
    ["www.amazon.co.uk", "shopping"],
    ["ebay", "shopping"],
  ])("%s is %s", (source, category) => {
    expect(siteCategory(source)).toBe(category);
  });

  it.each(["", "example.com", "google.evil.example", "mail.google.com", "t.co.evil.example", "brave.com", "xx.com"])("%j is none", (source) => {
    expect(siteCategory(source)).toBeUndefined();
  });
});
