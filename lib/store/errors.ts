/** Errors of object storage, each naming the object. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A conditional write lost: the object changed (or appeared) since it was read. Re-read and merge again. */
export class PreconditionFailedError extends StoreError {
  constructor(
    readonly key: string,
    readonly expected: string | null,
  ) {
    super(
      expected === null
        ? `${key} already exists (written by another run since it was read)`
        : `${key} changed since it was read (expected ETag ${expected})`,
    );
  }
}

/** A key that would escape the store's root (`..`, absolute paths) or is empty. */
export class InvalidKeyError extends StoreError {
  constructor(readonly key: string) {
    super(`invalid object key "${key}": keys are relative paths without "..", "." or empty parts`);
  }
}
