import { describe, expect, it } from "vitest";
import { createUserAgentParser, parseUserAgent, type ClientHints, type UserAgentInfo } from "./user-agent.js";

// Real user-agent strings, as these browsers send them.
const UA = {
  chromeWindows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  safariIPhone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
  safariIPad: "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  // iPadOS 13+ Safari asks for desktop sites by default and then sends the Mac user agent.
  safariIPadDesktopMode: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  firefoxLinux: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  firefoxUbuntu: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  edgeWindows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
  samsungInternet:
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
  chromeAndroidReduced: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  chromeAndroidTabletReduced: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  galaxyTab: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Safari/537.36",
  chromeMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  chromeOS: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  chromeIPhone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
  androidWebView:
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36",
  firefoxWindows7: "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
  samsungTizenTv:
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
  playStation5: "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  googlebotSmartphone:
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  bingbot: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  curl: "curl/8.5.0",
  wget: "Wget/1.21.3",
  pythonRequests: "python-requests/2.31.0",
  headlessChrome:
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
  phantomJs: "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
  lighthouse:
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
} as const;

const info = (browser: string, browserVersion: string, os: string, osVersion: string, device: UserAgentInfo["device"]): UserAgentInfo => ({
  browser,
  browserVersion,
  os,
  osVersion,
  device,
});

describe("parseUserAgent, user agent only", () => {
  it.each([
    ["Chrome on Windows", UA.chromeWindows, info("Chrome", "124.0.0.0", "Windows", "10", "desktop")],
    ["Safari on iPhone", UA.safariIPhone, info("Safari", "17.4.1", "iOS", "17.4.1", "mobile")],
    ["Safari on iPad", UA.safariIPad, info("Safari", "16.6", "iOS", "16.6", "tablet")],
    ["Safari on iPad in desktop mode (reads as a Mac, as in GA4)", UA.safariIPadDesktopMode, info("Safari", "17.4", "Macintosh", "10.15.7", "desktop")],
    ["Firefox on Linux", UA.firefoxLinux, info("Firefox", "125.0", "Linux", "", "desktop")],
    ["Firefox on Ubuntu (a distribution is Linux)", UA.firefoxUbuntu, info("Firefox", "125.0", "Linux", "", "desktop")],
    ["Edge on Windows", UA.edgeWindows, info("Edge", "124.0.2478.80", "Windows", "10", "desktop")],
    ["Samsung Internet on Android", UA.samsungInternet, info("Samsung Internet", "24.0", "Android", "13", "mobile")],
    ["Chrome on Android, reduced UA", UA.chromeAndroidReduced, info("Chrome", "124.0.0.0", "Android", "10", "mobile")],
    ["Chrome on a Galaxy Tab", UA.galaxyTab, info("Chrome", "124.0.6367.82", "Android", "13", "tablet")],
    ["Chrome on macOS", UA.chromeMac, info("Chrome", "124.0.0.0", "Macintosh", "10.15.7", "desktop")],
    ["Chrome on ChromeOS", UA.chromeOS, info("Chrome", "124.0.0.0", "Chrome OS", "14541.0.0", "desktop")],
    ["Chrome on iPhone", UA.chromeIPhone, info("Chrome", "124.0.6367.88", "iOS", "17.4", "mobile")],
    ["Android WebView", UA.androidWebView, info("Android Webview", "116.0.0.0", "Android", "13", "mobile")],
    ["Firefox on Windows 7", UA.firefoxWindows7, info("Firefox", "115.0", "Windows", "7", "desktop")],
    ["Samsung Tizen TV", UA.samsungTizenTv, info("Safari", "", "Tizen", "6.0", "smart-tv")],
    ["PlayStation 5 (a console is other)", UA.playStation5, info("Safari", "13.0", "PlayStation", "5", "other")],
    ["Googlebot", UA.googlebot, info("", "", "", "", "other")],
    ["curl", UA.curl, info("", "", "", "", "other")],
    ["HeadlessChrome", UA.headlessChrome, info("Chrome Headless", "124.0.6367.60", "Linux", "", "desktop")],
    ["empty", "", info("", "", "", "", "other")],
    ["garbage", "Mozilla/5.0 (test)", info("", "", "", "", "other")],
  ])("%s", (_name, ua, expected) => {
    expect(parseUserAgent(ua)).toEqual(expected);
  });

  it("treats absent and empty hints as no hints", () => {
    const empty: ClientHints = { "sec-ch-ua": "", "sec-ch-ua-mobile": "", "sec-ch-ua-platform": "", "sec-ch-ua-platform-version": "" };
    expect(parseUserAgent(UA.chromeWindows, empty)).toEqual(parseUserAgent(UA.chromeWindows));
    expect(parseUserAgent(UA.chromeWindows, {})).toEqual(parseUserAgent(UA.chromeWindows));
  });
});

// Client hints exactly as Chromium-based browsers send them (GREASE brand included).
const CHROME_124 = `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`;

describe("parseUserAgent, client hints take precedence", () => {
  it("Chrome on Windows 11: the platform version unfreezes the OS ('Windows NT 10.0' in the UA)", () => {
    const hints: ClientHints = {
      "sec-ch-ua": CHROME_124,
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": `"Windows"`,
      "sec-ch-ua-platform-version": `"15.0.0"`,
    };
    expect(parseUserAgent(UA.chromeWindows, hints)).toEqual(info("Chrome", "124.0.0.0", "Windows", "11", "desktop"));
  });

  it.each([
    ["15.0.0", "11"],
    ["13.0.0", "11"],
    ["10.0.0", "10"],
    ["1.0.0", "10"],
    ["0.3.0", "8.1"],
    ["0.1.0", "7"],
  ])("Windows platform version %s is Windows %s", (platformVersion, windows) => {
    const hints: ClientHints = { "sec-ch-ua": CHROME_124, "sec-ch-ua-platform": `"Windows"`, "sec-ch-ua-platform-version": `"${platformVersion}"` };
    expect(parseUserAgent(UA.chromeWindows, hints).osVersion).toBe(windows);
  });

  it("takes the full browser version from Sec-CH-UA-Full-Version-List", () => {
    const hints: ClientHints = {
      "sec-ch-ua": CHROME_124,
      "sec-ch-ua-full-version-list": `"Chromium";v="124.0.6367.91", "Google Chrome";v="124.0.6367.91", "Not-A.Brand";v="99.0.0.0"`,
      "sec-ch-ua-platform": `"Windows"`,
    };
    expect(parseUserAgent(UA.chromeWindows, hints)).toMatchObject({ browser: "Chrome", browserVersion: "124.0.6367.91", os: "Windows", osVersion: "10" });
  });

  it("Edge on Windows 10", () => {
    const hints: ClientHints = {
      "sec-ch-ua": `"Chromium";v="124", "Microsoft Edge";v="124", "Not-A.Brand";v="99"`,
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": `"Windows"`,
      "sec-ch-ua-platform-version": `"10.0.0"`,
    };
    expect(parseUserAgent(UA.edgeWindows, hints)).toEqual(info("Edge", "124.0.2478.80", "Windows", "10", "desktop"));
  });

  it("names Brave, whose user agent is Chrome's", () => {
    const hints: ClientHints = { "sec-ch-ua": `"Brave";v="124", "Chromium";v="124", "Not-A.Brand";v="99"`, "sec-ch-ua-platform": `"Windows"` };
    expect(parseUserAgent(UA.chromeWindows, hints)).toMatchObject({ browser: "Brave", browserVersion: "124" });
  });

  it("skips GREASE brands, even ones with separators inside the quotes", () => {
    const hints: ClientHints = { "sec-ch-ua": `"Not;A=Brand";v="8", "Chromium";v="124", "Google Chrome";v="124"` };
    expect(parseUserAgent(UA.chromeWindows, hints)).toMatchObject({ browser: "Chrome", browserVersion: "124.0.0.0" });
  });

  it("keeps the user agent's more specific name when the hints list only Chromium", () => {
    const hints: ClientHints = { "sec-ch-ua": `"Chromium";v="124", "Not-A.Brand";v="99"` };
    expect(parseUserAgent(UA.chromeWindows, hints).browser).toBe("Chrome");
    expect(parseUserAgent("", hints)).toMatchObject({ browser: "Chromium", browserVersion: "124" });
  });

  it("Chrome on macOS: the platform version replaces the frozen 10.15.7", () => {
    const hints: ClientHints = { "sec-ch-ua": CHROME_124, "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": `"macOS"`, "sec-ch-ua-platform-version": `"14.4.1"` };
    expect(parseUserAgent(UA.chromeMac, hints)).toEqual(info("Chrome", "124.0.0.0", "Macintosh", "14.4.1", "desktop"));
  });

  it("Chrome on an Android phone: the reduced UA's 'Android 10; K' gives way to the hints", () => {
    const hints: ClientHints = {
      "sec-ch-ua": `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`,
      "sec-ch-ua-mobile": "?1",
      "sec-ch-ua-platform": `"Android"`,
      "sec-ch-ua-platform-version": `"14.0.0"`,
      "sec-ch-ua-model": `"Pixel 8"`,
    };
    expect(parseUserAgent(UA.chromeAndroidReduced, hints)).toEqual(info("Chrome", "124.0.0.0", "Android", "14", "mobile"));
  });

  it("Chrome on an Android tablet (?0 on Android) is a tablet", () => {
    const hints: ClientHints = { "sec-ch-ua": CHROME_124, "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": `"Android"` };
    expect(parseUserAgent(UA.chromeAndroidTabletReduced, hints).device).toBe("tablet");
    expect(parseUserAgent(UA.chromeAndroidReduced, hints).device).toBe("tablet");
  });

  it("Sec-CH-UA-Mobile ?1 makes a phone even of a desktop-looking user agent (DevTools device mode)", () => {
    expect(parseUserAgent(UA.chromeWindows, { "sec-ch-ua": CHROME_124, "sec-ch-ua-mobile": "?1" }).device).toBe("mobile");
  });

  it("Samsung Internet's own brand", () => {
    const hints: ClientHints = {
      "sec-ch-ua": `"Samsung Internet";v="24.0", "Chromium";v="117", "Not;A=Brand";v="8"`,
      "sec-ch-ua-mobile": "?1",
      "sec-ch-ua-platform": `"Android"`,
    };
    expect(parseUserAgent(UA.samsungInternet, hints)).toEqual(info("Samsung Internet", "24.0", "Android", "13", "mobile"));
  });

  it("a platform other than the user agent's drops the user agent's OS version", () => {
    expect(parseUserAgent(UA.chromeWindows, { "sec-ch-ua": CHROME_124, "sec-ch-ua-platform": `"Linux"` })).toMatchObject({ os: "Linux", osVersion: "" });
  });

  it("ignores an Unknown platform", () => {
    expect(parseUserAgent(UA.chromeWindows, { "sec-ch-ua": CHROME_124, "sec-ch-ua-platform": `"Unknown"` })).toMatchObject({ os: "Windows", osVersion: "10" });
  });

  it("names HeadlessChrome from its brand", () => {
    expect(parseUserAgent(UA.chromeWindows, { "sec-ch-ua": `"HeadlessChrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99"` }).browser).toBe("Chrome Headless");
  });
});

describe("createUserAgentParser", () => {
  it("answers as parseUserAgent does, and from its cache the second time", () => {
    const parse = createUserAgentParser({ cacheSize: 4 });
    const hints: ClientHints = { "sec-ch-ua": CHROME_124, "sec-ch-ua-platform": `"Windows"`, "sec-ch-ua-platform-version": `"15.0.0"` };
    for (const ua of Object.values(UA)) {
      expect(parse(ua)).toEqual(parseUserAgent(ua));
      expect(parse(ua, hints)).toEqual(parseUserAgent(ua, hints));
    }
    const first = parse(UA.safariIPhone);
    expect(parse(UA.safariIPhone)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // The same user agent with hints is another entry.
    expect(parse(UA.chromeWindows, hints).osVersion).toBe("11");
    expect(parse(UA.chromeWindows).osVersion).toBe("10");
  });

  it("works without a cache", () => {
    expect(createUserAgentParser({ cacheSize: 0 })(UA.edgeWindows).browser).toBe("Edge");
  });
});
