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

/** Configuration that cannot be used; `field` names the flag or variable. */
export class ExportConfigError extends ExportError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
