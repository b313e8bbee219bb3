import { columnsOf, tsvLine, type RowsFormat } from "./tsv.js";

/** The rows one worker step produced for the analytics store. */
export interface ProjectionRows {
  readonly events: readonly Record<string, unknown>[];
  readonly sessions: readonly Record<string, unknown>[];
}

/** A projection message as the writer reads it: each table's rows as text in `format`, and the hours they fall in. */
export interface RowsMessage {
  readonly format: RowsFormat;
  readonly events: Uint8Array;
  readonly sessions: Uint8Array;
  readonly rows: number;
  /** (site, hour) pairs the rows fall in: events by time, sessions by start; hours as `YYYY-MM-DD HH:00:00`. */
  readonly hours: readonly (readonly [string, string])[];
}

// v2: rows as TabSeparated lines; v1 (older builds, maybe still in the stream after an upgrade): JSONEachRow lines.
interface Header {
  readonly v: 1 | 2;
  readonly rows: number;
  readonly eventBytes: number;
  readonly hours: [string, string][];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The header's fixed part: {"v":2,"rows":…,"eventBytes":…,"hours":[]} and its newline.
const HEADER_BYTES = 64;

/** The hour of a ClickHouse DateTime64 text (`YYYY-MM-DD HH:MM:SS.mmm`). */
const hourOf = (chTime: unknown): string => `${String(chTime).slice(0, 13)}:00:00`;

/**
 * Splits rows into messages of at most about `maxBytes`, below the NATS max_payload: a
 * one-line JSON header, then the event rows, then the session rows, one TabSeparated line
 * each (tsv.ts). The writer hands those lines to the store as they are, so a row is
 * serialized once on its way from the worker to the store. A single row larger than
 * `maxBytes` still gets a message of its own.
 */
export const chunkRows = (rows: ProjectionRows, maxBytes: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  let events: string[] = [];
  let sessions: string[] = [];
  let eventBytes = 0;
  let size = HEADER_BYTES;
  let hours = new Map<string, [string, string]>();
  const flush = (): void => {
    if (events.length + sessions.length === 0) return;
    const header: Header = { v: 2, rows: events.length + sessions.length, eventBytes, hours: [...hours.values()] };
    out.push(encoder.encode(`${JSON.stringify(header)}\n${events.join("")}${sessions.join("")}`));
    events = [];
    sessions = [];
    eventBytes = 0;
    size = HEADER_BYTES;
    hours = new Map();
  };
  const add = (list: "events" | "sessions", row: Record<string, unknown>, time: unknown): void => {
    const line = tsvLine(row, columnsOf(list));
    const bytes = Buffer.byteLength(line);
    const site = String(row["site"]);
    const hour = hourOf(time);
    const key = `${site}\u001f${hour}`;
    // A new (site, hour) pair lengthens the header: ["site","YYYY-MM-DD HH:00:00"], plus escapes to spare.
    const pairBytes = (): number => (hours.has(key) ? 0 : 2 * Buffer.byteLength(site) + 32);
    if (size + bytes + pairBytes() > maxBytes) flush();
    size += bytes + pairBytes();
    if (!hours.has(key)) hours.set(key, [site, hour]);
    if (list === "events") {
      events.push(line);
      eventBytes += bytes;
    } else sessions.push(line);
  };
  for (const r of rows.events) add("events", r, r["ts"]);
  for (const r of rows.sessions) add("sessions", r, r["start"]);
  flush();
  return out;
};

/** Reads a message made by `chunkRows`, or by versions before it (one JSON object with both row lists). */
export const readRowsMessage = (data: Uint8Array): RowsMessage => {
  const end = data.indexOf(10);
  if (end < 0) {
    const legacy = JSON.parse(decoder.decode(data)) as ProjectionRows;
    const [message] = chunkRows(legacy, Number.POSITIVE_INFINITY);
    return message ? readRowsMessage(message) : { format: "TabSeparated", events: new Uint8Array(0), sessions: new Uint8Array(0), rows: 0, hours: [] };
  }
  const header = JSON.parse(decoder.decode(data.subarray(0, end))) as Header;
  const body = data.subarray(end + 1);
  return { format: header.v === 1 ? "JSONEachRow" : "TabSeparated", events: body.subarray(0, header.eventBytes), sessions: body.subarray(header.eventBytes), rows: header.rows, hours: header.hours };
};
