/** Errors of the X-Ray trace model. Expected outcomes (an invalid document) are values, not these. */
export class XRayModelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A filter expression outside the supported subset, or malformed. `position` is the 0-based offset. */
export class FilterExpressionError extends XRayModelError {
  constructor(
    readonly expression: string,
    readonly position: number,
    reason: string,
  ) {
    super(`Invalid filter expression at position ${position}: ${reason} (in: ${expression})`);
  }
}

/** A trace id that is not `1-<8 hex>-<24 hex>`. */
export class InvalidTraceIdError extends XRayModelError {
  constructor(readonly traceId: string) {
    super(`Invalid trace id "${traceId}": expected 1-<8 hex digits>-<24 hex digits>`);
  }
}
