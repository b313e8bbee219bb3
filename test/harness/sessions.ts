import type { SessionAgg } from "../../actors/session/reducer.js";

/** A direct, engaged-or-not desktop Firefox session of one page view, with `over` changing any field. */
export const sessionOf = (over: Partial<SessionAgg> & Pick<SessionAgg, "id" | "site" | "visitor" | "start" | "version">): SessionAgg => ({
  end: over.start,
  pageviews: 1,
  events: 1,
  landingPage: "https://a.example/",
  exitPage: "https://a.example/",
  referrer: "",
  source: "(direct)",
  medium: "(none)",
  campaign: "",
  channel: "Direct",
  browser: "Firefox",
  os: "Linux",
  device: "desktop",
  country: "",
  bot: false,
  keyEvents: 0,
  engaged: false,
  userId: "",
  ...over,
});
