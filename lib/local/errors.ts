/** Errors of the local X-Ray service and the simulator. */
export class LocalServiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An error the service answers with, in X-Ray's restJson1 shape: the HTTP status, the modelled error name in
 * `x-amzn-ErrorType`, and `{"Message": ...}`, so the AWS SDKs and CLI deserialize it as the real service's.
 */
export class XRayApiError extends LocalServiceError {
  constructor(
    readonly errorType:
      | 'InvalidRequestException'
      | 'ThrottledException'
      | 'ServiceUnavailableException'
      | 'UnknownOperationException',
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string) => new XRayApiError('InvalidRequestException', 400, message);
export const throttled = (message = 'Rate exceeded') => new XRayApiError('ThrottledException', 429, message);

/** A scenario file or simulator option that cannot be used; `field` names what is wrong. */
export class ScenarioError extends LocalServiceError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The `--data` folder cannot be created, read or written; `dir` is the folder as given. */
export class DataDirError extends LocalServiceError {
  constructor(
    readonly dir: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`data folder ${dir}: ${reason}`, options);
  }
}
