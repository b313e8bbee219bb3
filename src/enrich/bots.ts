import { isbot } from "isbot";
import type { ClientHints } from "./user-agent.js";

// Automation that isbot's list may let through: headless and scripted browsers.
const AUTOMATION = /headless|phantomjs|slimerjs|puppeteer|playwright|selenium|webdriver|chrome-lighthouse/i;

/**
 * Whether a request comes from a crawler, a monitoring or HTTP tool, or a headless browser rather
 * than a person. A missing user agent counts as a bot: every real browser sends one.
 * Uses `isbot` (Unlicense, public domain) for the list of known crawlers.
 */
export const isBot = (ua: string, hints?: ClientHints): boolean => {
  const agent = ua.trim();
  if (agent === "" || isbot(agent) || AUTOMATION.test(agent)) return true;
  // Headless Chrome names itself in Sec-CH-UA ("HeadlessChrome") even when its user agent is overridden.
  return /headless/i.test(hints?.["sec-ch-ua"] ?? "");
};
