import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import type { Problem } from '../errors.js';
import { visible } from './visible.js';

/** The rows a rejected-rows report lists, each with the line it named (to run them again, corrected). */
export type ReportedRows = ReadonlyMap<number, number>;

/** The rows a rejected-rows report lists, by row number, with their lines; null if it is not one. */
export function reportedRows(text: string): ReportedRows | null {
  let records: Record<string, string>[];
  try {
    records = parse(text, { bom: true, columns: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch {
    return null;
  }
  const rows = new Map(records.map((r) => [Number(r.row), Number(r.line)]));
  const numbers = [...rows].flat();
  return numbers.every((n) => Number.isInteger(n) && n > 0) ? rows : null;
}

const COLUMNS = ['row', 'line', 'column', 'rule', 'message', 'value'];
const MAX_VALUE_CHARS = 200;
/**
 * Cells a spreadsheet would read as a formula (OWASP CSV injection). The guidance names a leading tab
 * and CR too: no cell carries them raw (see visible.ts).
 */
const FORMULA_START = /^[=+\-@]/;
/** `;` too: Excel in European locales splits on it. (Tabs and line breaks are escaped, never raw.) */
const NEEDS_QUOTES = /[",;]/;

/**
 * The rejected-rows report: a CSV (UTF-8 with BOM so Excel reads accents; CRLF) with columns
 * row, line, column, rule, message, value — one line per problem. Values are truncated to 200 characters (with '…').
 * Every cell, not only the value, has its control characters escaped (a line break in a value reads
 * `\n`) and is protected against formula injection: one starting with = + - @ is prefixed with a
 * single quote (OWASP CSV injection guidance).
 */
export class ErrorReport {
  readonly #out: Writable;
  #rejectedRows = 0;

  constructor(out: Writable) {
    this.#out = out;
    // A failing destination must not crash the process through an unhandled 'error' event while rows
    // are still being rendered: the error is kept by the stream and surfaces from end().
    out.on('error', () => undefined);
    // The header is written at once, so a job with no rejected row still leaves a readable report.
    out.write('\uFEFF' + csvLine(COLUMNS));
  }

  /** Adds every problem of one rejected row; `column` is the CSV header of the problem's prospect.X path when known (else the path itself), `value` the offending cell value ('' if none). */
  add(
    row: { row: number; line: number },
    problems: readonly Problem[],
    cellOf: (path: string, index: number) => { column: string; value: string },
  ): void {
    this.#rejectedRows++;
    const where = [String(row.row), String(row.line)];
    const lines = problems.map((problem, i) => {
      const { column, value } = cellOf(problem.path, i);
      return csvLine([...where, column, problem.rule, problem.message, truncate(value)]);
    });
    // A rejected row is never missing from the report, even if the caller had no problem to give.
    this.#out.write(lines.length > 0 ? lines.join('') : csvLine([...where, '', '', '', '']));
  }

  get rejectedRows(): number {
    return this.#rejectedRows;
  }

  /** Ends the stream; resolves when flushed. */
  async end(): Promise<void> {
    this.#out.end();
    await finished(this.#out);
  }
}

/**
 * One CSV line (CRLF) of cells made safe for a spreadsheet as the report's are: control characters
 * escaped, formulas defused, quoted where needed. Every CSV Platen writes goes through it.
 */
export function csvLine(cells: readonly string[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

function csvCell(text: string): string {
  const shown = visible(text);
  const safe = FORMULA_START.test(shown) ? `'${shown}` : shown;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** At most MAX_VALUE_CHARS characters, the ellipsis included; never half a surrogate pair. */
function truncate(value: string): string {
  // A string no longer in UTF-16 units than the limit cannot be longer in characters.
  if (value.length <= MAX_VALUE_CHARS) return value;
  const chars = Array.from(value);
  return chars.length <= MAX_VALUE_CHARS ? value : chars.slice(0, MAX_VALUE_CHARS - 1).join('') + '…';
}
