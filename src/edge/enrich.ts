import type { EventContext } from "../core/context.js";
import { hostOf } from "../core/url.js";
import type { PulseEvent } from "../core/event.js";
import { isBot } from "../enrich/bots.js";
import type { GeoLookup } from "../enrich/geo.js";
import { isReferrerSpam } from "../enrich/referrer-spam.js";
import { createUserAgentParser, type ClientHints } from "../enrich/user-agent.js";
import type { ParsedBatch } from "./protocols/native.js";

export interface ClientFacts {
  readonly ip: string;
  readonly userAgent: string;
  readonly hints: ClientHints;
}

export type Enricher = (batch: ParsedBatch, client: ClientFacts) => ParsedBatch;


/**
 * Adds browser, OS, device, location and the bot flag to every accepted event, and rejects
 * events whose referrer is a known spam host. Runs once per request: all its events share a client.
 */
export const createEnricher = (geo: GeoLookup): Enricher => {
  const parseUa = createUserAgentParser();
  return (batch, client) => {
    const ua = parseUa(client.userAgent, client.hints);
    const where = geo.lookup(client.ip);
    const context: EventContext = { browser: ua.browser, os: ua.os, device: ua.device, ...where, bot: isBot(client.userAgent, client.hints) };
    const accepted: PulseEvent[] = [];
    const rejected = [...batch.rejected];
    batch.accepted.forEach((e, index) => {
      const referrerHost = e.referrer ? hostOf(e.referrer) : "";
      if (referrerHost && isReferrerSpam(referrerHost)) rejected.push({ index, code: "referrer_spam", message: `referrer ${referrerHost} is on the spam list` });
      else accepted.push({ ...e, context });
    });
    return { site: batch.site, accepted, rejected };
  };
};
