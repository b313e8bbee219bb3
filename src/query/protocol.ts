import { InvalidInput } from "../core/errors.js";
import { parseReportSpec, type ReportSpec } from "./report.js";

/** What a client may send on `/ws`. Documented in docs/websocket-protocol.md. */
export type ClientMessage =
  | { readonly op: "query"; readonly id: string; readonly query: ReportSpec }
  | { readonly op: "subscribe"; readonly id: string; readonly query: ReportSpec }
  | { readonly op: "cancel" | "unsubscribe"; readonly id: string }
  | { readonly op: "track"; readonly id: string; readonly body: unknown };

/** What the server sends; every message carries the id of the request it answers. */
export type ServerMessage =
  | { readonly id: string; readonly type: "rows"; readonly columns: readonly string[]; readonly rows: readonly Record<string, string | number>[] }
  | {
      readonly id: string;
      readonly type: "done";
      /** Rows of the whole answer before limit and offset. */
      readonly rowCount: number;
      readonly elapsedMs: number;
      readonly totals?: readonly Record<string, string | number>[];
      /** Subscriptions only: which answer this is (0 first), and the ingest time up to which it is complete. */
      readonly update?: number;
      readonly watermark?: string;
    }
  | { readonly id: string; readonly type: "cancelled" }
  | { readonly id: string; readonly type: "tracked"; readonly accepted: number; readonly ids: readonly string[]; readonly rejected: readonly unknown[] }
  | { readonly id: string | null; readonly type: "error"; readonly error: { readonly code: string; readonly message: string } };

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The request id, if one can be read, so that even a bad message gets an answer the client can match. */
export const messageId = (text: string): string | null => {
  try {
    return peekId(JSON.parse(text));
  } catch {
    return null;
  }
};

const peekId = (raw: unknown): string | null => {
  if (typeof raw !== "object" || raw === null) return null;
  const id = (raw as Record<string, unknown>)["id"];
  return typeof id === "string" && ID.test(id) ? id : null;
};

export const parseClientMessage = (text: string): ClientMessage => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidInput("invalid_json", "the message is not valid JSON");
  }
  const id = peekId(raw);
  if (id === null) throw new InvalidInput("invalid_message", `"id" must be a string of 1 to 64 letters, digits or _.:-`);
  const op = (raw as Record<string, unknown>)["op"];
  if (op === "cancel" || op === "unsubscribe") return { op, id };
  // `{op, id, site, events}`: the events are checked by the native protocol's parser, as on POST /collect.
  if (op === "track") return { op, id, body: { site: (raw as Record<string, unknown>)["site"], events: (raw as Record<string, unknown>)["events"] ?? [] } };
  if (op === "query" || op === "subscribe") return { op, id, query: parseReportSpec((raw as Record<string, unknown>)["query"]) };
  throw new InvalidInput("invalid_message", `unknown "op" ${JSON.stringify(op)}; expected "query", "subscribe", "unsubscribe", "cancel" or "track"`);
};
