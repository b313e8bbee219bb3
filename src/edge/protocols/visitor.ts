import { stableId } from "../../core/hash.js";
import type { RequestContext } from "./native.js";

/** The parts of a request the derived visitor id depends on. */
export type VisitorContext = Pick<RequestContext, "receivedAt" | "ip" | "userAgent" | "visitorSalt">;

/**
 * The visitor id for protocols without a client id: a salted hash of (site, IP, user agent)
 * that rotates at midnight UTC, so it cannot follow a person across days. Gives the same id as
 * the native protocol does for the same caller.
 */
export const derivedVisitor = (site: string, ctx: VisitorContext): string =>
  stableId("v", ctx.visitorSalt, new Date(ctx.receivedAt).toISOString().slice(0, 10), site, ctx.ip, ctx.userAgent);
