// CSV as pandas' to_csv writes it (QUOTE_MINIMAL, "\n" line ends, NaN as empty), so notebooks
// that did pd.read_csv(f, index_col=0) on the research outputs keep working.
import { stringify } from 'csv-stringify/sync';

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One field. The hot path quotes by hand (~25 % faster than csv-stringify per row, measured);
 * test/csv.test.ts checks it writes exactly what csv-stringify writes.
 */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A cell a spreadsheet would run as a formula (OWASP's list: =, +, -, @, tab, carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** --safe-csv: such a value gets a leading `'`, which spreadsheets show as text (the file is then no longer exact). */
export function defuseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** csvField after defuseFormula. */
export function safeCsvField(value: string): string {
  return csvField(defuseFormula(value));
}

/** How fields are written: exactly, or with formulas defused (--safe-csv). */
export type FieldWriter = (value: string) => string;

export function fieldWriter(safe: boolean): FieldWriter {
  return safe ? safeCsvField : csvField;
}

export function csvLine(fields: readonly string[], field: FieldWriter = csvField): string {
  let out = field(fields[0] ?? '');
  for (let i = 1; i < fields.length; i++) out += `,${field(fields[i]!)}`;
  return out;
}

/**
 * Options that make csv-stringify write what csvField writes. With "\n" record ends csv-stringify
 * leaves a bare "\r" unquoted, which pandas' C parser would read as a line break: quote it too.
 */
export const CSV_STRINGIFY_OPTIONS = { record_delimiter: 'unix', quoted_match: /\r/ } as const;

/** Small tables (flows, reports) go through csv-stringify directly; `safe`: formulas defused. */
export function csvTable(header: readonly string[], rows: readonly (readonly string[])[], safe = false): string {
  const cells = [header, ...rows].map((r) => (safe ? r.map(defuseFormula) : [...r]));
  return stringify(cells, { ...CSV_STRINGIFY_OPTIONS });
}
