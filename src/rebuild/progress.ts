/** What a rebuild tells whoever started it. */
export type RebuildNews =
  | { readonly type: "progress"; readonly phase: string; readonly done: number; readonly events: number; readonly rate: number; readonly etaSeconds: number | undefined }
  | { readonly type: "log"; readonly line: string };

const duration = (s: number): string => {
  const t = Math.max(0, Math.round(s));
  return t >= 3600 ? `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m` : t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s` : `${t}s`;
};

/** One line of the progress bar: `[#####.....]  42% 1,234,567 events  210,000 ev/s  eta 12s  building`. */
export const progressLine = (p: Extract<RebuildNews, { type: "progress" }>, width = 24): string => {
  const done = Math.min(1, Math.max(0, p.done));
  const filled = Math.round(done * width);
  const eta = p.etaSeconds === undefined ? "eta --" : `eta ${duration(p.etaSeconds)}`;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(done * 100)).padStart(3)}% ${p.events.toLocaleString("en-US")} events  ${Math.round(p.rate).toLocaleString("en-US")} ev/s  ${eta}  ${p.phase}`;
};

/** Rate and remaining time from what this run did since it started (a resumed run starts at `done0`). */
export const estimate = (done0: number, done: number, events: number, elapsedMs: number): { rate: number; etaSeconds: number | undefined } => {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? events / seconds : 0;
  const share = done - done0;
  return { rate, etaSeconds: share > 0.001 && seconds > 0 ? (seconds * (1 - done)) / share : undefined };
};
