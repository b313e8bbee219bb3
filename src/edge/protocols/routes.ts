import { InvalidInput } from "../../core/errors.js";
import { answerWithReceipts, requireBody, type IngestProtocol } from "../collect.js";
import { parseJson, sendJson, sendNoContent } from "../http.js";
import { parseGa4Collect, readGa4Credentials } from "./ga4.js";
import { parseGtagCollect } from "./gtag.js";
import { parseNativeCollect } from "./native.js";
import { parsePlausibleEvent } from "./plausible.js";

/** GA4 data streams: which site a measurement id writes to, and whether an api_secret is its own. */
export interface Ga4Streams {
  readonly siteOf: (measurementId: string) => string | undefined;
  readonly secretMatches: (measurementId: string, apiSecret: string) => boolean;
}

/** `POST /collect`, Pulse's own protocol. */
export const nativeProtocol: IngestProtocol = {
  fromVisitor: true,
  parse: (body, _query, ctx) => parseNativeCollect(parseJson(body), ctx),
  accepted: answerWithReceipts,
};

/** `POST /mp/collect`: GA4 answers 2xx with no body; an api_secret must match the stream's. */
export const ga4Protocol = (streams: Ga4Streams): IngestProtocol => ({
  fromVisitor: false,
  parse: (body, query, ctx) => {
    const { measurementId, apiSecret } = readGa4Credentials(query);
    const site = streams.siteOf(measurementId);
    if (!site) throw new InvalidInput("unknown_measurement_id", `measurement_id "${measurementId.slice(0, 64)}" is not registered`, 404);
    // An ingest secret of one stream never writes to another site.
    if (!streams.secretMatches(measurementId, apiSecret)) throw new InvalidInput("invalid_api_secret", "api_secret does not match this measurement_id", 403);
    return parseGa4Collect(requireBody(body), site, ctx);
  },
  accepted: (reply) => sendNoContent(reply),
});

/** `GET|POST /g/collect`, gtag-style hits: answered 204 as Google does. */
export const gtagProtocol = (streams: Ga4Streams): IngestProtocol => ({
  fromVisitor: true,
  parse: (body, query, ctx) => parseGtagCollect(query, body.length > 0 ? body : undefined, streams.siteOf, ctx),
  accepted: (reply) => sendNoContent(reply),
});

/** `POST /api/event`, Plausible's events API: answered 202 "ok" as Plausible does. */
export const plausibleProtocol: IngestProtocol = {
  fromVisitor: true,
  parse: (body, _query, ctx) => parsePlausibleEvent(requireBody(body), ctx),
  accepted: (reply, parsed) => sendJson(reply, 202, { ok: true, accepted: parsed.accepted.length }),
};
