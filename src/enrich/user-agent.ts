import { createRequire } from "node:module";
import { createRecent } from "./recent.js";

// ua-parser-js 1.x (MIT). Version 2 is AGPL-3.0, which an Apache-2.0 project cannot ship: keep the major at 1.
// The 1.x package has no type declarations; this is the part of its API used here.
interface UAParserResult {
  readonly browser: { readonly name?: string | undefined; readonly version?: string | undefined };
  readonly os: { readonly name?: string | undefined; readonly version?: string | undefined };
  readonly device: { readonly type?: string | undefined };
}
type UAParserFn = (ua: string) => UAParserResult;
const uaParser = createRequire(import.meta.url)("ua-parser-js") as UAParserFn;

/** GA4's device categories, plus the kinds it folds into "(other)". */
export type DeviceCategory = "desktop" | "mobile" | "tablet" | "smart-tv" | "other";

export interface UserAgentInfo {
  /** GA4-style names ("Chrome", "Safari", "Edge", "Samsung Internet"); "" when unknown. */
  readonly browser: string;
  readonly browserVersion: string;
  /** GA4-style names ("Windows", "Macintosh", "iOS", "Android", "Linux", "Chrome OS"); "" when unknown. */
  readonly os: string;
  readonly osVersion: string;
  readonly device: DeviceCategory;
}

/**
 * User-Agent Client Hints as the request carried them, keyed by lower-case header name, raw
 * (structured-header) values. A missing header may be absent or "" (what uWS `getHeader` gives).
 */
export interface ClientHints {
  readonly "sec-ch-ua"?: string;
  readonly "sec-ch-ua-mobile"?: string;
  readonly "sec-ch-ua-platform"?: string;
  readonly "sec-ch-ua-platform-version"?: string;
  readonly "sec-ch-ua-full-version-list"?: string;
  readonly "sec-ch-ua-model"?: string;
}

/** The request headers `parseUserAgent` reads besides `user-agent`. */
export const CLIENT_HINT_HEADERS = [
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-ch-ua-platform-version",
  "sec-ch-ua-full-version-list",
  "sec-ch-ua-model",
] as const satisfies readonly (keyof ClientHints)[];

// ua-parser-js names → the names GA4 reports.
const BROWSER_NAMES: Readonly<Record<string, string>> = {
  "Mobile Safari": "Safari",
  "Mobile Chrome": "Chrome",
  "Mobile Firefox": "Firefox",
  "Samsung Browser": "Samsung Internet",
  "Chrome WebView": "Android Webview",
  "Opera Mobi": "Opera",
  // Sec-CH-UA brand names.
  "Google Chrome": "Chrome",
  "Microsoft Edge": "Edge",
  "Android WebView": "Android Webview",
  HeadlessChrome: "Chrome Headless",
  YaBrowser: "Yandex",
};

const LINUX_DISTROS = new Set(["Ubuntu", "Debian", "Fedora", "Mint", "Arch", "CentOS", "Red Hat", "SUSE", "openSUSE", "Gentoo", "Kubuntu", "Xubuntu", "Manjaro", "Slackware", "Mandriva", "Linpus", "Deepin"]);

const OS_NAMES: Readonly<Record<string, string>> = {
  "Mac OS": "Macintosh",
  macOS: "Macintosh",
  "Chromium OS": "Chrome OS",
  // Sec-CH-UA-Platform values that differ from ua-parser-js's.
  "Chrome OS": "Chrome OS",
};

const DESKTOP_OS = new Set(["Windows", "Macintosh", "Linux", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "Unix"]);

const browserName = (name: string): string => BROWSER_NAMES[name] ?? name;
const osName = (name: string): string => (LINUX_DISTROS.has(name) ? "Linux" : (OS_NAMES[name] ?? name));

const deviceOf = (type: string | undefined, os: string, browser: string): DeviceCategory => {
  switch (type) {
    case "mobile":
      return "mobile";
    case "tablet":
      return "tablet";
    case "smarttv":
      return "smart-tv";
    case undefined:
    case "":
      // ua-parser-js leaves desktops untyped; an untyped agent with neither OS nor browser is a tool, not a desktop.
      return DESKTOP_OS.has(os) || (os === "" && browser !== "") ? "desktop" : "other";
    default:
      // console, wearable, embedded, xr
      return "other";
  }
};

const fromUserAgent = (ua: string): UserAgentInfo => {
  const r = uaParser(ua);
  const browser = browserName(r.browser.name ?? "");
  const os = osName(r.os.name ?? "");
  return { browser, browserVersion: r.browser.version ?? "", os, osVersion: r.os.version ?? "", device: deviceOf(r.device.type, os, browser) };
};

interface Brand {
  readonly brand: string;
  readonly version: string;
}

// A structured-header list of `"brand";v="version"` items.
const BRAND_ITEM = /"((?:[^"\\]|\\.)*)"\s*;\s*v\s*=\s*"([^"]*)"/g;
// Chromium's GREASE entries ("Not A(Brand", "Not/A)Brand", "Not-A.Brand", ...) carry no information.
const GREASE = /not.?a.?brand/i;

const parseBrands = (header: string | undefined): Brand[] => {
  if (!header) return [];
  const out: Brand[] = [];
  for (const m of header.matchAll(BRAND_ITEM)) {
    const brand = (m[1] ?? "").replace(/\\(.)/g, "$1");
    if (!GREASE.test(brand)) out.push({ brand, version: m[2] ?? "" });
  }
  return out;
};

// The most specific brand: "Google Chrome" or "Microsoft Edge" over the "Chromium" they all list.
const pickBrand = (brands: readonly Brand[]): Brand | undefined => brands.find((b) => b.brand !== "Chromium") ?? brands[0];

const unquote = (v: string | undefined): string => (v ?? "").trim().replace(/^"(.*)"$/, "$1");

const major = (version: string): string => version.split(".")[0] ?? "";

// Drop trailing ".0" parts: Android "14.0.0" → "14", macOS "14.4.1" stays.
const trimVersion = (version: string): string => version.replace(/(\.0)+$/, "");

// Sec-CH-UA-Platform-Version on Windows counts Windows releases, not NT versions:
// 13 and up is Windows 11, 1 to 10 is Windows 10, 0.1/0.2/0.3 are 7/8/8.1.
const windowsVersion = (platformVersion: string): string => {
  const [maj, min] = platformVersion.split(".").map(Number);
  if (maj === undefined || !Number.isFinite(maj)) return "";
  if (maj >= 13) return "11";
  if (maj >= 1) return "10";
  return ({ 1: "7", 2: "8", 3: "8.1" } as Record<number, string>)[min ?? -1] ?? "";
};

const hintsPresent = (h: ClientHints): boolean => CLIENT_HINT_HEADERS.some((name) => (h[name] ?? "") !== "");

const applyHints = (ua: UserAgentInfo, h: ClientHints): UserAgentInfo => {
  let { browser, browserVersion, os, osVersion, device } = ua;

  const brand = pickBrand(parseBrands(h["sec-ch-ua"]));
  const full = parseBrands(h["sec-ch-ua-full-version-list"]);
  const fullBrand = pickBrand(full);
  const chosen = fullBrand ?? brand;
  // A browser that lists only "Chromium" does not name itself; what its user agent says is then more specific.
  if (chosen && !(chosen.brand === "Chromium" && browser !== "")) {
    const name = browserName(chosen.brand);
    const exact = full.find((b) => b.brand === chosen.brand)?.version;
    if (exact) browserVersion = exact;
    // Sec-CH-UA has the major version only; keep the user agent's fuller one when it agrees.
    else if (!(name === browser && major(browserVersion) === major(chosen.version))) browserVersion = chosen.version;
    browser = name;
  }

  const platform = unquote(h["sec-ch-ua-platform"]);
  if (platform !== "" && platform !== "Unknown") {
    const name = osName(platform);
    const platformVersion = unquote(h["sec-ch-ua-platform-version"]);
    if (platformVersion !== "") osVersion = name === "Windows" ? windowsVersion(platformVersion) : trimVersion(platformVersion);
    // A platform other than the user agent's: the user agent's version belongs to another OS.
    else if (name !== os) osVersion = "";
    os = name;
  }

  const mobile = (h["sec-ch-ua-mobile"] ?? "").trim();
  if (mobile === "?1") device = "mobile";
  else if (mobile === "?0" && (device === "mobile" || device === "other")) {
    // Not a phone: Chrome on an Android tablet says ?0 (its reduced user agent may still read as a phone).
    device = os === "Android" ? "tablet" : DESKTOP_OS.has(os) ? "desktop" : device;
  }

  return { browser, browserVersion, os, osVersion, device };
};

/**
 * Browser, OS and GA4 device category of a request. Client hints, when the browser sent them,
 * take precedence over the (frozen, reduced) user agent string.
 *
 * Known limit: Safari on iPadOS 13+ sends a Macintosh user agent by default and no client hints,
 * so such iPads count as desktop, as they do in GA4.
 */
export const parseUserAgent = (ua: string, hints?: ClientHints): UserAgentInfo => {
  const base = fromUserAgent(ua);
  return hints && hintsPresent(hints) ? applyHints(base, hints) : base;
};

export interface UserAgentParserOptions {
  /** Distinct (user agent, hints) pairs remembered; default 10 000, 0 for none. */
  readonly cacheSize?: number;
}

/**
 * A `parseUserAgent` that remembers recent answers: traffic repeats a few thousand user agents,
 * and a hit costs a map lookup instead of a parse. Each parser has its own cache.
 */
export const createUserAgentParser = (options: UserAgentParserOptions = {}): ((ua: string, hints?: ClientHints) => UserAgentInfo) => {
  const max = Math.max(0, options.cacheSize ?? 10_000);
  if (max === 0) return parseUserAgent;
  const cache = createRecent<string, UserAgentInfo>(max);
  return (ua, hints) => {
    const key = hints && hintsPresent(hints) ? `${ua}\n${CLIENT_HINT_HEADERS.map((n) => hints[n] ?? "").join("\n")}` : ua;
    let info = cache.get(key);
    if (info === undefined) cache.set(key, (info = Object.freeze(parseUserAgent(ua, hints))));
    return info;
  };
};
