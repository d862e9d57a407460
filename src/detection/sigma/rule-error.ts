// A rule that cannot be loaded: the message says why; the line (1-based) where, when known.
export class RuleError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    /** Where inside a search identifier (map keys, list indices), for the line. */
    readonly path: (string | number)[] = [],
  ) {
    super(message);
    this.name = 'RuleError';
  }
}
