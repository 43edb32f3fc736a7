/** Errors of the query layer, naming the view, engine or query concerned. */
export class QueryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A view name that is not one of ours. */
export class UnknownViewError extends QueryError {
  constructor(
    readonly view: string,
    known: readonly string[],
  ) {
    super(`unknown view "${view}" (one of ${known.join(', ')})`);
  }
}

/** The engine failed the query; `reason` is the engine's own message. */
export class QueryFailedError extends QueryError {
  constructor(
    readonly sql: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`query failed: ${reason}`, options);
  }
}
