// `report`: an output directory (summary + tables) → one self-contained HTML page.
import { writeFileAtomic } from '../files.js';
import { loadReportModel, type ReportModel, type ReportSource } from './model.js';
import { renderReport } from './page.js';

export { type ReportSource } from './model.js';
export { REPORT_FILE, SUMMARY_FILE } from './names.js';

export async function buildReport(source: ReportSource): Promise<{ html: string; model: ReportModel }> {
  const model = await loadReportModel(source);
  return { html: renderReport(model), model };
}

/** Writes the page to `target` (atomically); returns its size and what the page could not show. */
export async function writeReport(source: ReportSource, target: string): Promise<{ bytes: number; missing: string[] }> {
  const { html, model } = await buildReport(source);
  await writeFileAtomic(target, html);
  return { bytes: Buffer.byteLength(html, 'utf8'), missing: model.missing };
}
