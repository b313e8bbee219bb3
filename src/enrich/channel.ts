import type { Attribution } from "../core/attribution.js";

/** GA4's default channel group. */
export type Channel =
  | "Direct"
  | "Cross-network"
  | "Paid Shopping"
  | "Paid Search"
  | "Paid Social"
  | "Paid Video"
  | "Display"
  | "Paid Other"
  | "Organic Shopping"
  | "Organic Social"
  | "Organic Video"
  | "Organic Search"
  | "Referral"
  | "Email"
  | "Affiliates"
  | "Audio"
  | "SMS"
  | "Mobile Push Notifications"
  | "Unassigned";

/** The kinds of site GA4 keeps lists of. */
export type SiteCategory = "search" | "social" | "video" | "shopping";

// A country or generic top-level domain: google.com, google.de, google.co.uk, google.com.br.
const TLD = String.raw`(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})`;
// Any subdomain (m., l., lm., old., www.) of a domain.
const sub = (domain: string): string => String.raw`(?:[a-z0-9-]+\.)*${domain}`;
const hosts = (...patterns: string[]): RegExp => new RegExp(`^(?:${patterns.join("|")})$`);

// Short but real lists. A source matches by the name a campaign tag uses (utm_source=facebook)
// or by the referring host (l.facebook.com). Order matters where lists overlap: GA4 tests
// shopping, then social, then video, then search.
const SITES: readonly (readonly [SiteCategory, ReadonlySet<string>, RegExp])[] = [
  [
    "shopping",
    new Set(["amazon", "ebay", "etsy", "walmart", "shopify", "google shopping", "igshopping", "aliexpress"]),
    hosts(sub(`amazon\\.${TLD}`), sub(`ebay\\.${TLD}`), sub("etsy\\.com"), sub("walmart\\.com"), sub("shopify\\.com"), "shopping\\.google\\.com", sub("aliexpress\\.com")),
  ],
  [
    "social",
    new Set(["facebook", "fb", "meta", "instagram", "ig", "twitter", "x", "linkedin", "reddit", "pinterest", "tiktok", "threads", "bluesky", "mastodon", "tumblr", "quora", "snapchat", "vk", "whatsapp", "telegram", "discord", "hacker news"]),
    hosts(
      sub("facebook\\.com"),
      "fb\\.me",
      sub("messenger\\.com"),
      sub("instagram\\.com"),
      sub("twitter\\.com"),
      "t\\.co",
      "x\\.com",
      sub("linkedin\\.com"),
      "lnkd\\.in",
      sub("reddit\\.com"),
      sub(`pinterest\\.${TLD}`),
      "pin\\.it",
      sub("tiktok\\.com"),
      sub("threads\\.net"),
      "bsky\\.app",
      "mastodon\\.social",
      sub("tumblr\\.com"),
      sub("quora\\.com"),
      sub("snapchat\\.com"),
      "vk\\.com",
      sub("whatsapp\\.com"),
      "t\\.me",
      sub("discord\\.com"),
      "news\\.ycombinator\\.com",
    ),
  ],
  [
    "video",
    new Set(["youtube", "vimeo", "twitch", "dailymotion", "wistia"]),
    hosts(sub("youtube\\.com"), "youtu\\.be", sub("vimeo\\.com"), sub("twitch\\.tv"), sub("dailymotion\\.com"), sub("wistia\\.com")),
  ],
  [
    "search",
    new Set(["google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "brave", "naver", "seznam", "qwant", "startpage", "ask"]),
    hosts(
      `(?:www\\.)?google\\.${TLD}`,
      "(?:www\\.|cn\\.)?bing\\.com",
      "(?:html\\.)?duckduckgo\\.com",
      `(?:[a-z]+\\.)?search\\.yahoo\\.${TLD}`,
      `(?:www\\.|m\\.)?baidu\\.com`,
      `(?:www\\.)?yandex\\.${TLD}`,
      "(?:www\\.)?ecosia\\.org",
      "search\\.brave\\.com",
      "(?:search\\.|m\\.search\\.)?naver\\.com",
      "(?:search\\.)?seznam\\.cz",
      "(?:www\\.)?qwant\\.com",
      "(?:www\\.)?startpage\\.com",
      "(?:www\\.)?ask\\.com",
    ),
  ],
];

/** Which of GA4's site lists a source (a name or a host) is on, if any. */
export const siteCategory = (source: string): SiteCategory | undefined => {
  const s = source.trim().toLowerCase().replace(/\.$/, "");
  if (s === "") return undefined;
  for (const [category, names, pattern] of SITES) if (names.has(s) || pattern.test(s)) return category;
  return undefined;
};

const PAID = /^(?:.*cp.*|ppc|retargeting|paid.*)$/;
const SHOPPING_CAMPAIGN = /^.*(?:(?:[^a-df-z]|^)shop|shopping).*$/;
const EMAIL = new Set(["email", "e-mail", "e_mail", "e mail"]);
const SOCIAL_MEDIUM = new Set(["social", "social-network", "social-media", "sm", "social network", "social media"]);
const DISPLAY = new Set(["display", "banner", "expandable", "interstitial", "cpm"]);
const REFERRAL = new Set(["referral", "app", "link"]);

const NOT_SET = (v: string): boolean => v === "" || v === "(not set)";

/**
 * GA4's default channel group of a session, from its source, medium and campaign, by GA4's
 * published rules, tested in GA4's order (the first match wins). Comparisons ignore case.
 *
 * `referrerHost` stands in for the source only when the source is missing: GA4 itself classifies
 * by source, which for an untagged visit already is the referring site.
 */
export const defaultChannelGroup = (attribution: Attribution, referrerHost = ""): Channel => {
  const source = attribution.source.trim().toLowerCase();
  const medium = attribution.medium.trim().toLowerCase();
  const campaign = attribution.campaign.trim().toLowerCase();
  const site = siteCategory(NOT_SET(source) ? referrerHost : source);
  const paid = PAID.test(medium);
  const shoppingCampaign = SHOPPING_CAMPAIGN.test(campaign);

  if (source === "(direct)" && (medium === "(none)" || NOT_SET(medium))) return "Direct";
  if (campaign.includes("cross-network")) return "Cross-network";
  if (paid) {
    if (site === "shopping" || shoppingCampaign) return "Paid Shopping";
    if (site === "search") return "Paid Search";
    if (site === "social") return "Paid Social";
    if (site === "video") return "Paid Video";
  }
  if (DISPLAY.has(medium)) return "Display";
  if (paid) return "Paid Other";
  if (site === "shopping" || shoppingCampaign) return "Organic Shopping";
  if (site === "social" || SOCIAL_MEDIUM.has(medium)) return "Organic Social";
  if (site === "video" || medium.includes("video")) return "Organic Video";
  if (site === "search" || medium === "organic") return "Organic Search";
  if (REFERRAL.has(medium)) return "Referral";
  if (EMAIL.has(source) || EMAIL.has(medium)) return "Email";
  if (medium === "affiliate") return "Affiliates";
  if (medium === "audio") return "Audio";
  if (source === "sms" || medium === "sms") return "SMS";
  if (medium.endsWith("push") || medium.includes("mobile") || medium.includes("notification") || source === "firebase") return "Mobile Push Notifications";
  return "Unassigned";
};
