import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { PlatenError, type Problem } from '../errors.js';
import { writeAtomically } from '../files.js';
import { fitPieceOrThrow, type FittedPiece } from '../layout/piece.js';
import { mergeRecord, pieceFileName, type RecordImages } from '../merge/merge.js';
import { renderToBuffer, writePieces } from '../pipeline.js';
import type { InputDef } from '../template/manifest.js';
import type { CompiledTemplate } from '../template/model.js';
import { type CsvOptions, type CsvRow, openCsv } from './csv.js';
import { type ColumnMapping, mapColumns, prospectOf } from './mapping.js';
import { ErrorReport } from './report.js';

/**
 * Batch mail-merge: a prospect list in, a print file out, no row lost. Every row is validated,
 * merged and fitted exactly as a single render is; a bad row goes to the error report with its row
 * number, column and rule, and never stops the drop. Outputs are written under temporary names and
 * renamed when complete.
 */

export interface BatchOptions {
  compiled: CompiledTemplate;
  csvPath: string;
  csv?: CsvOptions;
  /** Overrides of the automatic column mapping: CSV header → prospect input. */
  map?: Record<string, string>;
  /** The `rep` part of every record: one rep for the whole drop. */
  rep: { values: Record<string, unknown>; images: RecordImages };
  /** `.pdf`: one merged print file; `.zip`: one PDF per row. Null for a dry run (preflight). */
  out: string | null;
  errorsPath: string;
  onProgress?: (progress: BatchProgress) => void;
}

export interface BatchProgress {
  /** Rows read so far, of `total`. */
  done: number;
  total: number;
  rendered: number;
  rejected: number;
  elapsedMs: number;
}

export interface BatchResult extends BatchProgress {
  mapping: ColumnMapping;
  /** The output file, or null when nothing was rendered (or a dry run). */
  output: string | null;
}

/** A piece ready to write, with what its row tells about it. */
interface RowPiece {
  piece: FittedPiece;
  fileName: string | null;
}

export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const { compiled } = options;
  const input = await openCsv(options.csvPath, options.csv);
  const mapping = mapColumns(input.headers, compiled.inputs.prospect, options.map);
  if (mapping.missingRequired.length > 0) {
    throw new PlatenError(
      'unmapped_columns',
      mapping.missingRequired.map((key) => ({
        path: `prospect.${key}`,
        rule: 'missing_column',
        message: `no CSV column for required input "${key}" (columns: ${input.headers.join(', ')}); map one with --map "Header=${key}"`,
      })),
    );
  }
  const progress: BatchProgress = {
    done: 0,
    total: await countRows(options),
    rendered: 0,
    rejected: 0,
    elapsedMs: 0,
  };
  const started = performance.now();
  const tick = () => {
    progress.elapsedMs = performance.now() - started;
    options.onProgress?.({ ...progress });
  };

  let output: string | null = null;
  await writeAtomically(options.errorsPath, async (errorsOut) => {
    const report = new ErrorReport(errorsOut);
    const pieces = goodPieces(compiled, input.rows, mapping, options.rep, report, progress, tick);
    if (options.out === null) {
      for await (const _ of pieces); // preflight: every row validated and fitted, nothing drawn
    } else {
      output = await writeOutput(compiled, pieces, options.out, progress);
    }
    await report.end();
  });
  tick();
  return { ...progress, mapping, output };
}

/** The rows' records, validated, merged and fitted; rejected rows go to the report. */
async function* goodPieces(
  compiled: CompiledTemplate,
  rows: AsyncIterable<CsvRow>,
  mapping: ColumnMapping,
  rep: BatchOptions['rep'],
  report: ErrorReport,
  progress: BatchProgress,
  tick: () => void,
): AsyncGenerator<RowPiece> {
  for await (const row of rows) {
    progress.done += 1;
    const problems: Problem[] = [];
    let result: RowPiece | null = null;
    const extra = row.extra.filter((cell) => cell.trim() !== '');
    if (extra.length > 0) {
      problems.push({
        path: 'csv',
        rule: 'ragged_row',
        message: `${extra.length} more cell(s) than the header has`,
      });
    } else {
      try {
        const prospect = withBooleans(prospectOf(row.values, mapping), compiled.inputs.prospect);
        const merged = mergeRecord(compiled, { rep: rep.values, prospect, fields: {} }, rep.images);
        const piece = fitPieceOrThrow(merged);
        const fileName = pieceFileName(compiled, merged.record);
        piece.marker = {
          title: `Row ${row.row}${fileName ? `: ${fileName.replace(/\.pdf$/i, '')}` : ''}`,
          label: String(row.row),
        };
        result = { piece, fileName };
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        problems.push(...error.problems);
      }
    }
    if (result) {
      progress.rendered += 1;
      yield result;
    } else {
      progress.rejected += 1;
      report.add(row, problems, (path) => cellOf(path, row, mapping));
    }
    if (progress.done % 100 === 0) tick();
  }
}

/** Spreadsheet spellings of yes and no, for boolean inputs (a CSV holds only text). */
const YES = /^(true|yes|y|1|x)$/i;
const NO = /^(false|no|n|0)$/i;

function withBooleans(
  prospect: Record<string, string>,
  inputs: Record<string, InputDef>,
): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = { ...prospect };
  for (const [key, value] of Object.entries(prospect)) {
    if (inputs[key]?.type !== 'boolean') continue;
    if (YES.test(value.trim())) out[key] = true;
    else if (NO.test(value.trim())) out[key] = false;
  }
  return out;
}

/** The CSV column and cell behind a problem's record path, for the report. */
function cellOf(path: string, row: CsvRow, mapping: ColumnMapping): { column: string; value: string } {
  const match = /^prospect\.([A-Za-z0-9_]+)$/.exec(path);
  const column = match ? mapping.columns[match[1]!] : undefined;
  return column ? { column, value: row.values[column] ?? '' } : { column: path, value: '' };
}

/** Rows in the file, read once up front so progress can show a total and an ETA. */
async function countRows(options: BatchOptions): Promise<number> {
  let total = 0;
  for await (const _ of (await openCsv(options.csvPath, options.csv)).rows) total += 1;
  return total;
}

async function writeOutput(
  compiled: CompiledTemplate,
  pieces: AsyncIterable<RowPiece>,
  out: string,
  progress: BatchProgress,
): Promise<string | null> {
  try {
    await writeAtomically(out, (stream) =>
      out.toLowerCase().endsWith('.zip')
        ? writeZip(compiled, pieces, stream)
        : writeMerged(compiled, pieces, stream),
    );
    return out;
  } catch (error) {
    // Every row rejected: there is no output to write, and the report says why.
    if (progress.rendered === 0 && error instanceof NothingRendered) return null;
    throw error;
  }
}

class NothingRendered extends Error {}

async function writeMerged(
  compiled: CompiledTemplate,
  pieces: AsyncIterable<RowPiece>,
  out: Writable,
): Promise<void> {
  const rows = pieces[Symbol.asyncIterator]();
  const first = await rows.next();
  if (first.done) throw new NothingRendered();
  async function* fitted() {
    yield first.value.piece;
    for (let next = await rows.next(); !next.done; next = await rows.next()) yield next.value.piece;
  }
  await writePieces(compiled, fitted(), out);
}

/** Most of what would grow in memory if the ZIP is written slower than pieces are drawn. */
const ZIP_BUFFER = 8 * 1024 * 1024;

async function writeZip(
  compiled: CompiledTemplate,
  pieces: AsyncIterable<RowPiece>,
  out: Writable,
): Promise<void> {
  const zip = new yazl.ZipFile();
  const zipped = zip.outputStream as Readable; // yazl's types say ReadableStream; it is a stream.Readable
  const written = pipeline(zipped, out);
  const used = new Set<string>();
  let count = 0;
  for await (const { piece, fileName } of pieces) {
    const pdf = await renderToBuffer(compiled, [piece]);
    // PDFs are compressed already: stored, not deflated again.
    zip.addBuffer(pdf, uniqueSafeName(fileName, piece.marker!.label, used), { compress: false });
    count += 1;
    while (zipped.readableLength > ZIP_BUFFER) await once(zipped, 'data');
  }
  if (count === 0) {
    zipped.destroy();
    throw new NothingRendered();
  }
  zip.end();
  await written;
}

/** A file name safe on every file system, unique within the ZIP (case-insensitively). */
export function uniqueSafeName(name: string | null, row: string, used: Set<string>): string {
  const stem =
    (name ?? '')
      .normalize('NFC')
      .replace(/\.pdf$/i, '')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
      .replace(/[/\\:*?"<>|\u0000-\u001f\u007f]+/g, '_')
      .replace(/^[\s.]+|[\s.]+$/g, '')
      .slice(0, 120) || `row-${row}`;
  let candidate = `${stem}.pdf`;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}.pdf`;
  used.add(candidate.toLowerCase());
  return candidate;
}
