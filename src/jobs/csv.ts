import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { type Problem, PlatenError, storageFault } from '../errors.js';
import { CellDecoder, type CsvEncoding, detectEncoding } from './encoding.js';
import { quoted, visible } from './visible.js';

/**
 * Reads a prospect list as a stream of rows. csv-parse does the parsing; this module detects the
 * encoding and delimiter, decodes each cell, turns the header into names, and keeps the line numbers a
 * person sees in a text editor, so that a rejected row can be found in the file it came from.
 *
 * The parser splits bytes, not text: both encodings write every delimiter, quote and line break as
 * the ASCII byte, and no other byte of UTF-8 or Windows-1252 text is an ASCII byte. Each cell is then
 * decoded on its own (encoding.ts), so that a cell that is not text in the list's encoding is known
 * by its row and column, rather than printed as U+FFFD.
 */

export type { CsvEncoding };
export type CsvDelimiter = ',' | ';' | '\t';
export interface CsvOptions {
  encoding?: CsvEncoding;
  delimiter?: CsvDelimiter;
}
export interface CsvRow {
  /** 1-based row number counting data rows only (the header is row 0), as a person counts rows in a spreadsheet after the header. */
  row: number;
  /** 1-based line number in the file where this record starts (records may span lines: quoted newlines). */
  line: number;
  /** Values by header, as written (trimming is the record schema's job). Ragged rows: missing cells are '' and extra cells are reported, not dropped silently. */
  values: Record<string, string>;
  /** Extra cells beyond the header (a ragged row), if any: the runner rejects such rows. */
  extra: string[];
  /**
   * Cells that are not text in the list's encoding, one problem each (path: the header), if any: the
   * runner rejects such rows. Such a cell's value shows each byte that is not text as `\xE9`.
   */
  problems?: Problem[];
}
export interface CsvInput {
  /** As written, BOM removed, trimmed. */
  headers: string[];
  /**
   * Given, or detected from the first 64 KiB. When those are all ASCII (which both encodings write
   * alike) this says UTF-8, and the rows settle it at the first cell that is not ASCII.
   */
  encoding: CsvEncoding;
  /** Detected or given. */
  delimiter: CsvDelimiter;
  /**
   * Streamed: never the whole file in memory; blank lines skipped (but line numbers stay right).
   * Each iteration reads the file afresh. A file that cannot be parsed past some point (a quote never
   * closed) throws PlatenError('invalid_csv') rule 'malformed' naming the line, rather than losing rows.
   */
  rows: AsyncIterable<CsvRow>;
}

/** How much of the file encoding and delimiter detection look at. */
const SNIFF_BYTES = 64 * 1024;
/**
 * The longest record accepted, in bytes. Without a bound, a quote that is never closed would make the
 * parser buffer the rest of the file; no prospect row is anywhere near this long.
 */
const MAX_RECORD_BYTES = 1_000_000;
/** In order of preference when the header line uses several equally often. */
const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t'];
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16_BOMS = [Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])];

/**
 * Opens a CSV file: detects BOM/UTF-8 vs Windows-1252 (the first 64 KiB: see detectEncoding) and the
 * delimiter (from the header line: the most frequent of , ; \t outside quotes) unless given. Throws
 * PlatenError('invalid_csv', [{path:'csv', rule, message}]) for: empty file/no header, duplicate or
 * empty header names, a header that is not text in the encoding, unreadable file; also for UTF-16,
 * which is neither encoding.
 */
export async function openCsv(path: string, options: CsvOptions = {}): Promise<CsvInput> {
  const { bytes, whole } = await readStart(path);
  const bom = bytes.subarray(0, 3).equals(UTF8_BOM);
  // Excel's "Unicode Text" is UTF-16: it would decode as Windows-1252 noise, so it is refused by name.
  if (!options.encoding && UTF16_BOMS.some((mark) => bytes.subarray(0, 2).equals(mark)))
    throw invalid('unsupported_encoding', 'UTF-16 text is not supported: save the sheet as "CSV UTF-8"');
  const file: CsvFile = {
    path,
    // A UTF-8 BOM is skipped here: the parser, told of it, would decode cells itself.
    start: bom ? 3 : 0,
    encoding: options.encoding ?? (bom ? 'utf-8' : detectEncoding(bytes, whole)),
    declared: options.encoding !== undefined,
    delimiter: options.delimiter ?? detectDelimiter(new TextDecoder().decode(bytes)),
  };
  const headers = await readHeader(file);
  return {
    headers,
    encoding: file.encoding ?? 'utf-8',
    delimiter: file.delimiter,
    // The file is opened when the rows are read, each time they are: a caller that stops before
    // reading them (a mapping refused) leaves no file open, and can count the rows in a first pass.
    rows: { [Symbol.asyncIterator]: () => readRows(file, headers) },
  };
}

/** A list to read, and how: its encoding null while only ASCII has been seen (see CellDecoder). */
interface CsvFile {
  path: string;
  /** Where the text starts: after a BOM. */
  start: number;
  encoding: CsvEncoding | null;
  /** The encoding was given, not detected. */
  declared: boolean;
  delimiter: CsvDelimiter;
}

/** The header names, trimmed: the first record that has any content. */
async function readHeader(file: CsvFile): Promise<string[]> {
  const reader = readRecords(file);
  try {
    const header = await reader.next();
    if (header === undefined) throw invalid('empty', 'the file is empty: expected a header line');
    const headers = header.cells.map((name) => name.trim());
    const problems = [
      ...header.undecodable.map(({ index, message }) =>
        problem(
          'encoding',
          `the header (line ${header.line}), column ${index + 1} ${quoted(headers[index]!)}, ${message}`,
        ),
      ),
      ...headerProblems(headers),
    ];
    if (problems.length > 0) throw new PlatenError('invalid_csv', problems);
    return headers;
  } finally {
    await reader.close();
  }
}

async function* readRows(file: CsvFile, headers: readonly string[]): AsyncGenerator<CsvRow> {
  const reader = readRecords(file);
  try {
    const header = await reader.next();
    const same =
      header?.cells.length === headers.length && header.cells.every((h, i) => h.trim() === headers[i]);
    if (!same) throw invalid('changed', 'the file changed after it was opened: its header is not the same');
    for (let row = 1; ; row++) {
      const record = await reader.next();
      if (record === undefined) return;
      // Extra cells are not named: a row with any is rejected for them.
      const problems = record.undecodable.flatMap(({ index, message }) =>
        index < headers.length ? [{ path: headers[index]!, rule: 'encoding', message }] : [],
      );
      yield {
        row,
        line: record.line,
        // fromEntries makes own properties, so a header named __proto__ is a column like any other.
        values: Object.fromEntries(headers.map((name, i) => [name, record.cells[i] ?? ''])),
        extra: record.cells.slice(headers.length),
        ...(problems.length > 0 ? { problems } : {}),
      };
    }
  } finally {
    // Stops reading the file when the caller stops early (break, an error in its loop).
    await reader.close();
  }
}

function readRecords(file: CsvFile): RecordReader {
  const parser = parse({
    delimiter: file.delimiter,
    // Cells come out as bytes, one character each, and are decoded by RecordReader.
    encoding: 'latin1',
    // Ragged rows come through whole: padding and reporting extra cells is done here, by header.
    relax_column_count: true,
    // A quote inside an unquoted value (a 12" screen) is kept as written, as spreadsheets do.
    relax_quotes: true,
    // Blank lines come through as records without content, which RecordReader skips as it numbers
    // lines: asking the parser for each record's info (its empty-line count) is slow (docs/perf.md).
    // All three line endings, even mixed in one file: auto-discovery would fix on the first one seen.
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: MAX_RECORD_BYTES,
  });
  // Errors reach the reader through the parser, which pipeline destroys with them; the callback has
  // nothing to add (and also sees the premature close of a reader that stopped early).
  pipeline(createReadStream(file.path, { start: file.start }), parser, () => undefined);
  return new RecordReader(
    parser[Symbol.asyncIterator]() as AsyncIterator<string[]>,
    new CellDecoder(file.encoding, file.declared),
  );
}

/**
 * Pulls records from the parser and numbers their lines: a record starts on the line after the
 * previous one ends, blank lines included (they are records too, without content). csv-parse's own
 * `info.lines` counts a CR LF inside a quoted value as two lines, so lines are counted here.
 */
class RecordReader {
  #nextLine = 1;

  readonly #records: AsyncIterator<string[]>;
  readonly #decoder: CellDecoder;

  constructor(records: AsyncIterator<string[]>, decoder: CellDecoder) {
    this.#records = records;
    this.#decoder = decoder;
  }

  /**
   * The next record that has any content, or undefined at the end of the file; `undecodable` are its
   * cells that are not text in the list's encoding, and what is wrong with each.
   */
  async next(): Promise<
    { cells: string[]; line: number; undecodable: { index: number; message: string }[] } | undefined
  > {
    for (;;) {
      let result: IteratorResult<string[]>;
      try {
        result = await this.#records.next();
      } catch (err) {
        throw this.#readError(err);
      }
      if (result.done) return undefined;
      const cells = result.value;
      const line = this.#nextLine;
      this.#nextLine = line + 1 + cells.reduce((n, cell) => n + lineBreaks(cell), 0);
      const undecodable: { index: number; message: string }[] = [];
      for (let index = 0; index < cells.length; index++) {
        const text = this.#decoder.decode(cells[index]!);
        if (typeof text === 'string') cells[index] = text;
        else {
          cells[index] = text.shown;
          undecodable.push({ index, message: text.message });
        }
      }
      // Whitespace-only lines and rows of bare delimiters (spreadsheets export formatted empty rows
      // as ",,,") carry no data: they are blank lines too, not rows to reject.
      if (cells.some((cell) => cell.trim() !== '')) return { cells, line, undecodable };
    }
  }

  async close(): Promise<void> {
    await this.#records.return?.();
  }

  #readError(err: unknown): unknown {
    // Our own storage failing (an I/O error) is not a fault of the list.
    if (storageFault(err)) return err;
    if (!(err instanceof CsvError)) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return invalid('unreadable', `cannot read the file (${code})`);
    }
    return invalid('malformed', `the record starting on line ${this.#nextLine} ${describeCsvError(err)}`);
  }
}

function describeCsvError(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'has a quoted value that is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `is longer than ${MAX_RECORD_BYTES.toLocaleString('en')} bytes (often a quote that is never closed)`;
    default:
      return `cannot be read: ${visible(err.message)}`;
  }
}

function lineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function headerProblems(headers: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const columns = new Map<string, number[]>();
  headers.forEach((name, i) => {
    if (name === '') problems.push(problem('empty_header', `column ${i + 1} has no name in the header line`));
    else columns.set(name, [...(columns.get(name) ?? []), i + 1]);
  });
  for (const [name, at] of columns) {
    if (at.length > 1)
      problems.push(
        problem(
          'duplicate_header',
          `the header ${quoted(name)} names more than one column (columns ${at.join(', ')})`,
        ),
      );
  }
  return problems;
}

interface Sniff {
  bytes: Buffer;
  /** The whole file fits in the sniff: a multi-byte character cut at its end is an error, not a cut. */
  whole: boolean;
}

async function readStart(path: string): Promise<Sniff> {
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(SNIFF_BYTES + 1);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      return { bytes: buffer.subarray(0, Math.min(bytesRead, SNIFF_BYTES)), whole: bytesRead <= SNIFF_BYTES };
    } finally {
      await file.close();
    }
  } catch (err) {
    if (storageFault(err)) throw err;
    throw invalid(
      'unreadable',
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/**
 * The delimiter the header line uses most, outside quotes. When two are used equally often
 * (`Nom;Adresse, ville`), the one the next line uses as often wins.
 */
function detectDelimiter(text: string): CsvDelimiter {
  const [header, next] = delimiterCounts(text);
  const best = Math.max(...DELIMITERS.map((d) => header?.get(d) ?? 0));
  if (best === 0) return ','; // a single column
  const tied = DELIMITERS.filter((d) => header?.get(d) === best);
  return tied.find((d) => next?.get(d) === best) ?? tied[0] ?? ',';
}

/** Counts of each delimiter on the first two non-blank lines, outside quotes (quoted newlines included). */
function delimiterCounts(text: string): Map<string, number>[] {
  const lines: Map<string, number>[] = [];
  let counts = new Map<string, number>();
  let quoted = false;
  let blank = true;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) {
      if (!blank) lines.push(counts);
      if (lines.length === 2) return lines;
      counts = new Map();
      blank = true;
      continue;
    } else if (!quoted && DELIMITERS.includes(ch as CsvDelimiter)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    if (ch.trim() !== '') blank = false;
  }
  if (!blank) lines.push(counts);
  return lines;
}

function problem(rule: string, message: string): Problem {
  return { path: 'csv', rule, message };
}

function invalid(rule: string, message: string): PlatenError {
  return new PlatenError('invalid_csv', [problem(rule, message)]);
}
