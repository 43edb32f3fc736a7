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

/**
 * An export asked to spread hours over another number of part files than the lake was written with: a trace
 * exported again (late segments, a re-run) would land in its new part file while its old rows stay in the
 * old one, twice in the lake. The run stops before exporting anything.
 */
export class LakeShardsError extends ExportError {
  constructor(
    /** Where the lake is. */
    readonly lake: string,
    /** The part files an hour the lake was written with (at least this many when only inferred). */
    readonly written: number,
    readonly requested: number,
    /** How `written` is known: the lake's record, or its part files (lakes exported before the record). */
    readonly from: 'record' | 'part files',
  ) {
    super(
      from === 'record'
        ? `shards: the lake at ${lake} is written with ${written} part file(s) an hour (_state/lake.json), not ${requested}: export with ${written} (--shards, LAKE_SHARDS), or into a new lake`
        : `shards: the lake at ${lake} holds hours written with ${written === 1 ? '1 part file' : `at least ${written} part files`} an hour (its traces/ part files), not ${requested}: export with ${written === 1 ? '1' : `that number`} (--shards, LAKE_SHARDS), or into a new lake; if the files mislead, write {"shards": N} to _state/lake.json`,
    );
  }
}
