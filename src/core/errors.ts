/**
 * Tagged errors. `retryable` says whether trying the same thing again can help;
 * only the edge turns them into HTTP statuses.
 */
abstract class PulseError extends Error {
  abstract readonly _tag: string;
  abstract readonly retryable: boolean;
}

/** The caller sent something we will never accept as it is. */
export class InvalidInput extends PulseError {
  readonly _tag = "InvalidInput";
  readonly retryable = false;
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A dependency is lagging or down; the same request can succeed later. */
export class Unavailable extends PulseError {
  readonly _tag = "Unavailable";
  readonly retryable = true;
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Configuration is wrong; restarting with the same settings will not help. */
export class ConfigError extends PulseError {
  readonly _tag = "ConfigError";
  readonly retryable = false;
}

/** A storage backend refused or failed a write or read. */
export class StoreError extends PulseError {
  readonly _tag = "StoreError";
  constructor(
    readonly backend: string,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`${backend}: ${message}`, options);
  }
}
