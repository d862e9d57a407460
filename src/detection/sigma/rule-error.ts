// A rule that cannot be loaded: the message says why; the line (1-based) where, when known.
export class RuleError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'RuleError';
  }
}
