/** Errors of the insights module, carrying what they concern. */
export class InsightsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The detector's saved state does not fit this detector, or buckets came out of order. */
export class DetectorStateError extends InsightsError {}

/** A bucket's `latency_bins` is not the `{"bin": count}` JSON object the `service_buckets` view writes. */
export class LatencyBinsError extends InsightsError {
  constructor(
    readonly bins: string,
    readonly problem: string,
  ) {
    super(`latency_bins ${problem}: ${bins.length > 80 ? `${bins.slice(0, 80)}…` : bins}`);
  }
}

/**
 * Some insight entries could not be published. `failed` holds each entry with the destination's error code
 * and message; the other entries of the batch were delivered.
 */
export class PublishError extends InsightsError {
  constructor(
    readonly destination: string,
    /** `retryable`: the destination calls the error transient (the publisher ran out of attempts). */
    readonly failed: readonly { insightId: string; code: string; message: string; retryable?: boolean }[],
  ) {
    super(
      `${failed.length} insight event(s) not published to ${destination}: ${failed
        .slice(0, 3)
        .map((f) => `${f.insightId} (${f.code}: ${f.message})`)
        .join('; ')}${failed.length > 3 ? '; …' : ''}`,
    );
  }
}
