// `clarion-enrich report DIR`: one self-contained HTML page (service flow graph, attribution per
// network namespace, per-service activity, alerts, timeline) from an output directory.
import { join } from 'node:path';
import type { Command } from 'commander';
import { REPORT_FILE, SUMMARY_FILE } from '../output/report/names.js';
import { warnLine } from './common.js';

interface ReportOptions {
  output?: string;
  summary?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .summary('write one self-contained HTML page from an output directory')
    .description(
      'Read an output directory of add-services, preprocess or detect and write one HTML file that works\n' +
        'offline (no network access, nothing loaded from outside; fine as a CI artifact):\n' +
        '  the service flow graph (from the flows table), attribution per network namespace (ambiguous ones\n' +
        '  with what would resolve them), per-service processes, artifacts, edges, top executables and command\n' +
        '  lines, alerts (alerts.csv: sortable, filterable), and a timeline of edges per service.\n' +
        `Reads DIR/${SUMMARY_FILE} (add-services writes it only with --json: save that output there, or\n` +
        'give it with --summary), the processes and flows tables and alerts.csv when present. It never reads\n' +
        'the edges table; the page holds aggregates and top-N lists, so it stays small on large captures.',
    )
    .argument('<dir>', 'output directory of add-services, preprocess or detect')
    .option('-o, --output <file>', `where to write the page; - for stdout (default: <dir>/${REPORT_FILE})`)
    .option('--summary <file>', `the run summary, if not <dir>/${SUMMARY_FILE} (e.g. saved --json output)`)
    .addHelpText(
      'after',
      `
Examples:
  $ clarion-enrich preprocess prov.json --services svc.json -o dataset/ && clarion-enrich report dataset/
  $ clarion-enrich add-services prov.json svc.json -o out/ --json > out/summary.json
  $ clarion-enrich report out/ -o report.html
  $ clarion-enrich add-services prov.json svc.json -o out/ --report      # same page, same run`,
    )
    .action(async (dir: string, opts: ReportOptions) => {
      // Loaded when used: every other command starts without the report's modules.
      const { buildReport, writeReport } = await import('../output/report/index.js');
      const { bytes } = await import('../output/report/format.js');
      const source = { dir, ...(opts.summary ? { summaryPath: opts.summary } : {}) };
      if (opts.output === '-') {
        const { html, model } = await buildReport(source);
        for (const m of model.missing) warnLine(`report: ${m}`);
        process.stdout.write(html);
        return;
      }
      const target = opts.output ?? join(dir, REPORT_FILE);
      const written = await writeReport(source, target);
      for (const m of written.missing) warnLine(`report: ${m}`);
      process.stderr.write(`clarion-enrich: report written to ${target} (${bytes(written.bytes)})\n`);
    });
}
