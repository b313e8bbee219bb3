import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { Unavailable } from "../core/errors.js";
import type { MicroBatcher } from "./batcher.js";
import { parseJson, readBody, sendError, sendJson, type Reply } from "./http.js";
import { parseNativeCollect, type RequestContext } from "./protocols/native.js";

export interface CollectDeps {
  readonly batcher: MicroBatcher;
  readonly maxBodyBytes: number;
  readonly context: (ip: string, userAgent: string) => RequestContext;
  readonly isDraining: () => boolean;
  /** Sheds load with 503 while the workers are this many batches behind, instead of letting the backlog grow without bound. */
  readonly backlog: () => number;
  readonly maxBacklog: number;
}

/**
 * `POST /collect`: answers 202 only once JetStream has stored every batch holding
 * the request's events; the receipts in the answer are those PubAcks.
 */
export const handleCollect = (deps: CollectDeps) => (res: HttpResponse, req: HttpRequest): void => {
  const reply: Reply = { res, aborted: false };
  res.onAborted(() => {
    reply.aborted = true;
  });
  // Request data is only readable synchronously, before the first await.
  const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
  const userAgent = req.getHeader("user-agent");
  const declared = Number(req.getHeader("content-length") || 0);
  void (async () => {
    try {
      if (deps.isDraining()) throw new Unavailable("draining", "this server is shutting down; retry on another", 1);
      const backlog = deps.backlog();
      if (backlog > deps.maxBacklog) throw new Unavailable("backlog", `the workers are ${backlog} batches behind; retry shortly`, 1);
      const body = parseJson(await readBody(reply, deps.maxBodyBytes, declared));
      const parsed = parseNativeCollect(body, deps.context(ip, userAgent));
      if (parsed.accepted.length === 0) {
        sendJson(reply, 400, { error: { code: "no_valid_events", message: "no event in the request is valid" }, rejected: parsed.rejected });
        return;
      }
      const receipts = await deps.batcher.add(parsed.accepted);
      sendJson(reply, 202, { accepted: parsed.accepted.length, ids: parsed.accepted.map((e) => e.id), rejected: parsed.rejected, receipts });
    } catch (e) {
      sendError(reply, e);
    }
  })();
};
