// Exit codes are part of the CLI contract (CI pipelines branch on them).
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  invalidInput: 3,
  kubernetes: 4,
  /** `--fail-on LEVEL` and an alert at or above it. */
  alertsAtOrAbove: 5,
} as const;

/** A known failure with a message meant for the user; anything else is a bug (exit 1). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Input that cannot be read or does not have the expected shape. Message starts with `path[:line]: `. */
export class InputError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.invalidInput);
  }
}

/** A bad record at a line of an input: the parts kept apart, so a line counted within a segment can be re-based. */
export class InputLineError extends InputError {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
  }
}

export class KubernetesError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.kubernetes);
  }
}
