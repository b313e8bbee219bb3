/** The real services a test run shares, started once by the global setup. */
export interface Services {
  readonly natsUrl: string;
  readonly elasticsearchUrl: string;
  readonly stop: () => Promise<void>;
}
