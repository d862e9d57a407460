// Command-line entry: builds the commander program and maps failures to exit codes.
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './errors.js';
import { interruptHandler } from './interrupts.js';
import { removeTemporaryPathsSync } from './output/files.js';
import { registerAddServices } from './commands/add-services.js';
import { registerDetect } from './commands/detect.js';
import { type CommandIo, PROCESS_IO } from './commands/cluster-options.js';
import { registerFetch } from './commands/fetch.js';
import { registerMapNamespaces } from './commands/map-namespaces.js';
import { registerPreprocess } from './commands/preprocess.js';
import { registerReport } from './commands/report.js';

/** `io`: where commands write (tests run the program in-process with their own). */
export function buildProgram(io: CommandIo = PROCESS_IO): Command {
  const program = new Command('clarion-enrich')
    .description(
      'Attribute SPADE/CLARION provenance (Linux Audit with namespaces) to Kubernetes services and write\n' +
        'CORAL-compatible CSV for notebooks and CI pipelines.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Wide enough for the hand-laid-out descriptions; commander would re-wrap them at 80.
    .configureHelp({ helpWidth: 110 })
    .configureOutput({ writeErr: io.stderr, writeOut: io.stdout });
  registerAddServices(program);
  registerPreprocess(program);
  registerFetch(program, io);
  registerDetect(program);
  registerMapNamespaces(program);
  registerReport(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 internal error, 2 usage (also: an output directory that cannot be written, or one
another run is writing to), 3 invalid or unreadable input (or outputs that cannot be written: disk
full), 4 Kubernetes API failure, 5 an alert at or above --fail-on. With --json, a failure still
prints {"ok": false, "exitCode", "error"}.

Examples:
  $ clarion-enrich add-services prov.json svc.json --out-dir out/
  $ clarion-enrich preprocess 'captures/*.json.gz' --services svc.json -o dataset/ --json
  $ clarion-enrich fetch -n shop -o cluster.json
  $ clarion-enrich detect --events events.ndjson --rules rules/linux -o alerts/ --fail-on high
  $ sudo clarion-enrich map-namespaces --pods pods.json -o ns-map.json`,
  );
  return program;
}

/**
 * With --json, a failed run still prints a summary on stdout (`ok: false`, the exit code and the
 * error), so `--json > summary.json` in CI is never empty.
 */
function printFailureJson(argv: readonly string[], exitCode: number, message: string): void {
  if (!argv.includes('--json')) return;
  const command = argv.slice(2).find((a) => !a.startsWith('-')) ?? null;
  process.stdout.write(`${JSON.stringify({ command, ok: false, exitCode, error: message }, null, 2)}\n`);
}

function failureMessage(err: unknown): string {
  if (err instanceof CommanderError || err instanceof CliError) return err.message;
  return `internal error: ${(err as Error)?.message ?? String(err)}`;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`--help | head`, `--json | head`) is not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`clarion-enrich: cannot write to stdout (${err.code ?? err.message})\n`);
  });
  // Interrupted: leave no temporary files behind, exit as a shell expects (128 + signal number).
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      const takenOver = interruptHandler();
      if (takenOver) return takenOver(signal);
      removeTemporaryPathsSync();
      process.stderr.write(`\nclarion-enrich: interrupted (${signal}); temporary files removed\n`);
      process.exit(code);
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    const code = reportFailure(err, PROCESS_IO.stderr);
    if (code !== ExitCode.ok) printFailureJson(argv, code, failureMessage(err));
    return code;
  }
}

/** A failed run's exit code, after saying what failed on `writeErr`. */
export function reportFailure(err: unknown, writeErr: (text: string) => void): number {
  if (err instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0; commander printed the rest.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (err instanceof CliError) {
    writeErr(`clarion-enrich: ${err.message}\n`);
    return err.exitCode;
  }
  writeErr(`clarion-enrich: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return ExitCode.internal;
}
