// Command-line entry: builds the commander program and maps failures to exit codes.
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './errors.js';
import { removeTemporaryPathsSync } from './output/files.js';
import { registerAddServices } from './commands/add-services.js';
import { registerFetch } from './commands/fetch.js';
import { registerPreprocess } from './commands/preprocess.js';
import { registerReport } from './commands/report.js';

export function buildProgram(): Command {
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
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerAddServices(program);
  registerPreprocess(program);
  registerFetch(program);
  registerReport(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid or unreadable input, 4 Kubernetes API failure.

Examples:
  $ clarion-enrich add-services prov.json svc.json --out-dir out/
  $ clarion-enrich preprocess 'captures/*.json.gz' --services svc.json -o dataset/ --json
  $ clarion-enrich fetch -n shop -o cluster.json`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`--help | head`, `--json | head`) is not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`clarion-enrich: cannot write to stdout (${err.code ?? err.message})\n`);
  });
  // Interrupted: leave no temporary files behind, exit as a shell expects (128 + signal number).
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
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
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`clarion-enrich: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`clarion-enrich: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.internal;
  }
}
