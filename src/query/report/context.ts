/** What a report is compiled against besides its spec: the store, the site's settings, the clock. */
export interface ReportContext {
  readonly database: string;
  /** The site's IANA time zone: days, hours, weeks and months are the site's. */
  readonly timezone: string;
  /** Event names counted as key events. */
  readonly keyEvents: readonly string[];
  readonly nowMs: number;
  /** Force the raw tables or the rollups; "auto" reads the rollups whenever they can answer. */
  readonly source?: "auto" | "raw" | "rollup";
}

export interface BoundQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, string | number | readonly string[]>>;
}
