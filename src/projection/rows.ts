/** The rows one worker step produced for the analytics store. */
export interface ProjectionRows {
  readonly events: readonly Record<string, unknown>[];
  readonly sessions: readonly Record<string, unknown>[];
}

const encoder = new TextEncoder();

/**
 * Splits rows into JSON messages of at most `maxBytes`, below the NATS max_payload.
 * A single row larger than that still gets a message of its own.
 */
export const chunkRows = (rows: ProjectionRows, maxBytes: number): Uint8Array[] => {
  const out: Uint8Array[] = [];
  let events: string[] = [];
  let sessions: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (events.length + sessions.length === 0) return;
    out.push(encoder.encode(`{"events":[${events.join(",")}],"sessions":[${sessions.join(",")}]}`));
    events = [];
    sessions = [];
    size = 0;
  };
  const add = (list: "events" | "sessions", row: Record<string, unknown>): void => {
    const json = JSON.stringify(row);
    const bytes = Buffer.byteLength(json) + 1;
    if (size + bytes > maxBytes) flush();
    (list === "events" ? events : sessions).push(json);
    size += bytes;
  };
  for (const r of rows.events) add("events", r);
  for (const r of rows.sessions) add("sessions", r);
  flush();
  return out;
};
