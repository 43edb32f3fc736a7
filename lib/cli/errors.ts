/** Errors of the command line: bad flags and bad values, each naming the flag. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
