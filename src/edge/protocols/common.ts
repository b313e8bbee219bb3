import { InvalidInput } from "../../core/errors.js";
import { stableId } from "../../core/hash.js";

/** Helpers shared by the third-party protocol parsers (ga4, gtag, plausible). */

export type Json = Record<string, unknown>;
export type Scalar = string | number | boolean;

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A problem with one event of a request: the parser turns it into a rejection of that event only. */
export class EventProblem {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

/** Events stamped more than this ahead of the receive time come from a broken clock (as in native.ts). */
export const MAX_FUTURE_MS = 3_600_000;

/** Length in code points, which is what vendors mean by "characters". */
export const chars = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
};

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Shortens a value quoted in an error message. */
export const clip = (s: string, max = 64): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The absolute http(s) URL in normal form, or undefined. */
export const httpUrl = (raw: string): string | undefined => {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : undefined;
  } catch {
    return undefined;
  }
};

/**
 * `https://<site>/`, the page URL given to hits that carry none; undefined when the site id
 * is not a plain host name, since a URL made from it would point somewhere else.
 */
export const siteRootUrl = (site: string): string | undefined => {
  if (site === "") return undefined;
  let u: URL;
  try {
    u = new URL(`https://${site}/`);
  } catch {
    return undefined;
  }
  return u.pathname === "/" && u.search === "" && u.hash === "" && u.username === "" && u.password === "" ? u.href : undefined;
};

/**
 * The event id for protocols without one, derived as native.ts does: with a client time the id
 * repeats when the same request is retried; without one, the receive sequence keeps it unique.
 */
export const derivedEventId = (
  site: string,
  visitor: string,
  name: string,
  url: string,
  ts: number,
  clientTime: boolean,
  index: number,
  seq: number,
): string => stableId("e", site, visitor, name, url, ts, clientTime ? index : seq);

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text; bytes must be valid UTF-8. */
export const bodyText = (body: string | Uint8Array): string => {
  if (typeof body === "string") return body;
  try {
    return utf8.decode(body);
  } catch {
    throw new InvalidInput("invalid_body", "the body is not valid UTF-8");
  }
};
