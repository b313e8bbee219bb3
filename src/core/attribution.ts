import { parseUrl } from "./url.js";

/** Where a session came from, in GA4's terms. */
export interface Attribution {
  readonly source: string;
  readonly medium: string;
  readonly campaign: string;
}

// Hosts whose referrals GA4 counts as organic search, by the name it reports as source.
// A country or generic top-level domain: google.com, google.de, google.co.uk, google.com.br.
const TLD = String.raw`(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})`;
const SEARCH_ENGINES: readonly (readonly [RegExp, string])[] = [
  [new RegExp(String.raw`(^|\.)google\.${TLD}$`), "google"],
  [/(^|\.)bing\.com$/, "bing"],
  [/(^|\.)duckduckgo\.com$/, "duckduckgo"],
  [new RegExp(String.raw`(^|\.)yahoo\.${TLD}$`), "yahoo"],
  [/(^|\.)baidu\.com$/, "baidu"],
  [new RegExp(String.raw`(^|\.)yandex\.${TLD}$`), "yandex"],
  [/(^|\.)ecosia\.org$/, "ecosia"],
  [/(^|\.)search\.brave\.com$/, "brave"],
];

// Click ids that mark a paid click even without UTM tags.
const CLICK_IDS: readonly (readonly [string, string])[] = [
  ["gclid", "google"],
  ["gbraid", "google"],
  ["wbraid", "google"],
  ["msclkid", "bing"],
];

const DIRECT: Attribution = { source: "(direct)", medium: "(none)", campaign: "(direct)" };

const bareHost = (host: string): string => host.toLowerCase().replace(/^www\./, "");

/**
 * Attribution of a session from its first event: UTM tags first, then click ids, then the
 * referrer (a search engine is organic, any other site a referral, none or the site itself direct).
 */
export const attribute = (pageUrl: string, referrer: string): Attribution => {
  const page = parseUrl(pageUrl);
  const q = page?.searchParams;
  const utmSource = q?.get("utm_source");
  if (utmSource) return { source: utmSource, medium: q?.get("utm_medium") || "(not set)", campaign: q?.get("utm_campaign") || "(not set)" };
  for (const [param, source] of CLICK_IDS) if (q?.has(param)) return { source, medium: "cpc", campaign: q.get("utm_campaign") || "(not set)" };
  const ref = parseUrl(referrer);
  if (!ref || (page && bareHost(ref.hostname) === bareHost(page.hostname))) return DIRECT;
  const host = bareHost(ref.hostname);
  for (const [pattern, name] of SEARCH_ENGINES) if (pattern.test(host)) return { source: name, medium: "organic", campaign: "(organic)" };
  return { source: host, medium: "referral", campaign: "(referral)" };
};
