import { stableId } from "../../src/core/hash.js";

/**
 * NATS subject tokens may not hold '.', '*', '>' or spaces, and site ids may hold dots;
 * base64url keeps every site distinct and legal. Visitors are hashed to bound the length.
 */
export const siteToken = (site: string): string => Buffer.from(site).toString("base64url");

export const visitorSubject = (prefix: string, site: string, visitor: string): string =>
  `${prefix}.${siteToken(site)}.${stableId(site, visitor)}`;

/** The log-wide id of an event: event ids are unique per site only. */
export const logId = (site: string, id: string): string => stableId(site, id);
