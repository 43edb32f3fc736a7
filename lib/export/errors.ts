/** Errors of the exporter, each carrying what it concerns. */
export class ExportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A call kept failing past its retries: the window is not exported, and the checkpoint does not move. */
export { RetriesExhaustedError } from '../retry.js';

/** Another run holds the export lease; two runs never export at once. */
export class LeaseHeldError extends ExportError {
  constructor(
    readonly owner: string,
    readonly expiresAt: string,
  ) {
    super(
      `another export (${owner}) holds the lease until ${expiresAt}; wait, or remove _state/export/lease.json if that run is dead`,
    );
  }
}

/**
 * A file of the exporter's `_state/` (the checkpoint, a lease) is not what the exporter wrote: hand-edited,
 * truncated. The run stops before exporting anything; the message names the file and what to do.
 */
export class ExportStateError extends ExportError {
  constructor(
    /** Where the file is: the store's location and the key. */
    readonly file: string,
    problem: string,
    remedy: string,
    options?: ErrorOptions,
  ) {
    super(`${file} ${problem}; ${remedy}`, options);
  }
}

/** Configuration that cannot be used; `field` names the flag or variable. */
export class ExportConfigError extends ExportError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
