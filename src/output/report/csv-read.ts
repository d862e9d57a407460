// Reads an output table row by row (csv-parse, streaming): only the named columns are kept, so a
// table of any size costs the memory of one row.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { InputError } from '../../errors.js';

/** A row's values for the requested columns, in request order; undefined where the table has no such column. */
export type PickedRow = (string | undefined)[];

export interface CsvReadResult {
  rows: number;
  /** Requested columns the header does not have. */
  absent: string[];
}

/**
 * Calls `onRow` with the values of `columns` for every data row of `path`. Errors name the file and
 * line. `required` columns missing from the header are an error (exit 3).
 */
export async function readCsvColumns(path: string, columns: readonly string[], onRow: (row: PickedRow) => void, required: readonly string[] = []): Promise<CsvReadResult> {
  const parser = createReadStream(path).pipe(parse({ bom: true, relax_column_count: false, skip_empty_lines: true }));
  let indexes: (number | undefined)[] | undefined;
  let absent: string[] = [];
  let rows = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!indexes) {
        const at = new Map<string, number>();
        record.forEach((name, i) => at.has(name) || at.set(name, i));
        indexes = columns.map((c) => at.get(c));
        absent = columns.filter((c) => !at.has(c));
        const missing = required.filter((c) => !at.has(c));
        if (missing.length) throw new InputError(`${path}:1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header has: ${record.join(', ')})`);
        continue;
      }
      rows++;
      onRow(indexes.map((i) => (i === undefined ? undefined : record[i])));
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as NodeJS.ErrnoException & { lines?: number };
    if (e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES') throw new InputError(`${path}: cannot read (${e.code})`);
    throw new InputError(`${path}${e.lines ? `:${e.lines}` : ''}: not a valid CSV table (${e.message})`);
  } finally {
    parser.destroy();
  }
  if (!indexes && required.length) throw new InputError(`${path}: empty file (no header line); expected columns ${required.join(', ')}`);
  return { rows, absent: indexes ? absent : [...columns] };
}
