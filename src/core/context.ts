/** What the edge learned about the client of a request; the IP address itself is never kept. */
export interface EventContext {
  readonly browser: string;
  readonly os: string;
  readonly device: string;
  readonly country: string;
  readonly region: string;
  readonly city: string;
  /** Flagged, kept in the log, and left out of reports by default. */
  readonly bot: boolean;
}
