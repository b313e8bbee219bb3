// Hosts well known for referrer spam: fake visits whose only purpose is to show the spammer's
// domain in analytics reports. Short on purpose; sites can add their own through
// `createReferrerSpamFilter`.
const KNOWN_SPAM_HOSTS: readonly string[] = [
  "semalt.com",
  "buttons-for-website.com",
  "buttons-for-your-website.com",
  "darodar.com",
  "ilovevitaly.com",
  "ilovevitaly.ru",
  "ilovevitaly.co",
  "priceg.com",
  "hulfingtonpost.com",
  "best-seo-offer.com",
  "best-seo-solution.com",
  "blackhatworth.com",
  "7makemoneyonline.com",
  "econom.co",
  "savetubevideo.com",
  "kambasoft.com",
  "screentoolkit.com",
  "get-free-traffic-now.com",
  "free-share-buttons.com",
  "free-social-buttons.com",
  "social-buttons.com",
  "simple-share-buttons.com",
  "floating-share-buttons.com",
  "100dollars-seo.com",
  "success-seo.com",
  "videos-for-your-business.com",
  "event-tracking.com",
  "trafficmonetize.com",
  "webmonetizer.net",
  "o-o-6-o-o.com",
  "o-o-8-o-o.com",
  "humanorightswatch.org",
  "4webmasters.org",
  "cenoval.ru",
  "bestwebsitesawards.com",
  "googlsucks.com",
  "theguardlan.com",
  "ranksonic.info",
];

/** A referrer's host: lower case, without port or trailing dot; a whole URL is tolerated. */
const hostOf = (raw: string): string => {
  let host = raw.trim().toLowerCase();
  if (host.includes("/")) {
    try {
      host = new URL(host.includes("://") ? host : `http://${host}`).hostname;
    } catch {
      return "";
    }
  }
  return host.replace(/:\d+$/, "").replace(/\.$/, "");
};

/** `a.b.example.com` is spam when any of it, `b.example.com`, `example.com` or `com`, is listed. */
const listed = (hosts: ReadonlySet<string>, raw: string): boolean => {
  let host = hostOf(raw);
  while (host !== "") {
    if (hosts.has(host)) return true;
    const dot = host.indexOf(".");
    if (dot < 0) return false;
    host = host.slice(dot + 1);
  }
  return false;
};

/** A spam check over the built-in list plus the given hosts (each also matching its subdomains). */
export const createReferrerSpamFilter = (extraHosts: Iterable<string> = []): ((referrerHost: string) => boolean) => {
  const hosts = new Set(KNOWN_SPAM_HOSTS);
  for (const h of extraHosts) {
    const host = hostOf(h);
    if (host !== "") hosts.add(host);
  }
  return (referrerHost) => listed(hosts, referrerHost);
};

const BUILT_IN: ReadonlySet<string> = new Set(KNOWN_SPAM_HOSTS);

/** Whether a referrer host, or any domain it belongs to, is a known referrer-spam host. */
export const isReferrerSpam = (referrerHost: string): boolean => listed(BUILT_IN, referrerHost);
