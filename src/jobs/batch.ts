import type { SheetSize } from '../model/geometry.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { PlatenError, type Problem } from '../errors.js';
import { writeAtomically } from '../files.js';
import { sheetLayout } from '../pdf/impose.js';
import { type Imposition, PdfJoiner } from '../render/join.js';
import { type RelocatedPart, relocatePart, type RelocationPlan, surveyPart } from '../render/relocate.js';
import { validateRecord } from '../merge/merge.js';
import { isoDay } from '../model/manifest.js';
import type { CompiledTemplate } from '../model/template.js';
import {
  type ChunkKind,
  type ChunkResult,
  type RepPart,
  repIdOf,
  type RowReps,
  type TemplateSource,
} from './chunk.js';
import type { SavedChunk } from './checkpoints.js';
import { type CsvInput, type CsvOptions, type CsvRow, openCsv } from './csv.js';
import type { ChunkDispatcher } from './dispatch.js';
import type { JobPieces } from './experiment.js';
import { type ColumnMapping, mapColumns } from './mapping.js';
import { ErrorReport, type ReportedRows } from './report.js';
import { visible } from './visible.js';
import { ZipWriter } from './zip-writer.js';

/**
 * Batch mail-merge: a prospect list in, a print file out, no row lost. Every row is validated,
 * merged and fitted exactly as a single render is; a bad row goes to the error report with its row
 * number, column and rule, and never stops the drop. Rows go out in chunks to workers (all cores,
 * see dispatch.ts), which write parts; parts are joined in row order into the output as they finish.
 * Outputs are written under temporary names and renamed when complete.
 */

export interface BatchOptions {
  template: TemplateSource;
  /** The template as compiled here (for the mapping and the rep part). */
  compiled: CompiledTemplate;
  csvPath: string;
  csv?: CsvOptions;
  /** Overrides of the automatic column mapping: CSV header → prospect input. */
  map?: Record<string, string>;
  /** Only these rows (by row number), as when rejected rows are corrected and run again. */
  onlyRows?: ReadonlySet<number>;
  /** The rows to render (after `onlyRows`), when the caller has counted them already. */
  total?: number;
  /** The `rep` part of the records: one rep for the whole drop, or for rows that name none. */
  rep: RepPart | null;
  /** A rep per row (the service's jobs): the rep column and the profiles it may name. */
  reps?: RowReps;
  /** `.pdf`: one merged print file; `.zip`: one PDF per row. Null for a dry run (preflight). */
  out: string | null;
  /** A merged print file: step and repeat the pieces on press sheets of this size (see pdf/impose.ts). */
  impose?: SheetSize;
  errorsPath: string;
  /**
   * Writes a finished file (`out`, the report) whole or not at all: by default a local file, with
   * writeAtomically; a service job's go to its object store (`out` and `errorsPath` are keys there).
   */
  writeFile?: FileWriter;
  dispatcher: ChunkDispatcher;
  /** Where parts are written. By default a temporary folder beside the output, removed at the end. */
  partsDir?: string;
  /** Chunks finished before and kept (a resumed job); saves each chunk as it finishes. */
  checkpoints?: Checkpoints;
  /** A service job's row identities and experiment (see JobPieces); the CLI's rows print the sample. */
  pieces?: JobPieces;
  /**
   * The day of the job (YYYY-MM-DD) for date inputs that default to it; by default the day it runs.
   * A resumed job passes the day it started, so its rows agree.
   */
  today?: string;
  /**
   * When the job started (its files' creation date and file ID); by default now. A resumed job passes
   * when it started, so that a chunk drawn again is the same file, byte for byte.
   */
  created?: Date;
  /** Rows per chunk; a resumed job must use the size it started with. */
  chunkRows?: number;
  signal?: AbortSignal;
  /** Awaited before the batch goes on: a progress that cannot be recorded fails the batch. */
  onProgress?: (progress: BatchProgress) => void | Promise<void>;
}

/**
 * A job's memory of finished chunks: their results, whose parts stay on disk until the job ends.
 * `save` is where a job records a chunk's pieces, before its checkpoint.
 */
export interface Checkpoints {
  get(index: number): SavedChunk | undefined;
  save(result: ChunkResult): void | Promise<void>;
}

export interface BatchProgress {
  /** Rows read so far, of `total`; null while a long list is still being counted. */
  done: number;
  total: number | null;
  rendered: number;
  rejected: number;
  /** Rows held out of the print run (an experiment's control group). */
  heldOut: number;
  elapsedMs: number;
}

export interface BatchResult extends BatchProgress {
  mapping: ColumnMapping;
  /** The output file, or null when nothing was rendered (or a dry run). */
  output: string | null;
}

/** Opens a drop's CSV and maps its columns; refuses (naming them) required inputs with no column. */
export async function mappedCsv(
  compiled: CompiledTemplate,
  csvPath: string,
  csv: CsvOptions = {},
  map?: Record<string, string>,
): Promise<{ input: CsvInput; mapping: ColumnMapping }> {
  const input = await openCsv(csvPath, csv);
  const mapping = mapColumns(input.headers, compiled.inputs.prospect, map);
  if (mapping.missingRequired.length > 0) {
    throw new PlatenError(
      'unmapped_columns',
      mapping.missingRequired.map((key) => ({
        path: `prospect.${key}`,
        rule: 'missing_column',
        message: `no CSV column for required input "${key}" (columns: ${input.headers.map(visible).join(', ')}); map a column to it: "Header=${key}"`,
      })),
    );
  }
  return { input, mapping };
}

export type FileWriter = <T>(name: string, write: (out: Writable) => Promise<T>) => Promise<T>;

export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const { compiled, out, dispatcher, checkpoints, signal } = options;
  const created = options.created ?? new Date();
  const today = options.today ?? isoDay(created);
  const repWrong = options.rep ? repProblems(compiled, options.rep.values) : [];
  if (repWrong.length > 0) throw new PlatenError('invalid_rep', repWrong);
  const kind: ChunkKind = out === null ? 'check' : out.toLowerCase().endsWith('.zip') ? 'zip' : 'pdf';
  // A sheet too small for one piece throws SheetTooSmallError here, before the list is read.
  const impose: Imposition | undefined =
    options.impose && kind !== 'check'
      ? { layout: sheetLayout(compiled.page, options.impose), geometry: compiled.page }
      : undefined;
  if (impose && kind === 'zip') throw new Error('only a merged print file (.pdf) can be imposed');
  const { input: all, mapping } = await mappedCsv(compiled, options.csvPath, options.csv, options.map);
  const { onlyRows } = options;
  const input = onlyRows ? onlyRowsOf(all, onlyRows) : all;
  // The chunk size needs to know only whether the list is short; a long one's rows are counted while
  // the first chunks render, so that workers do not wait for a pass over the whole file.
  const large = largeDrop(kind, dispatcher.concurrency);
  const head = options.total ?? (await countRows(input, large));
  const progress: BatchProgress = {
    done: 0,
    total: options.total ?? (head < large ? head : null),
    rendered: 0,
    rejected: 0,
    heldOut: 0,
    elapsedMs: 0,
  };
  const counted = progress.total === null ? countRows(input).then((total) => (progress.total = total)) : null;
  counted?.catch(() => undefined); // the rendering pass meets the same file, and reports its errors
  const chunkRows = options.chunkRows ?? chunkSize(Math.min(head, large), kind, dispatcher.concurrency);
  const started = performance.now();
  const tick = async () => {
    progress.elapsedMs = performance.now() - started;
    await options.onProgress?.({ ...progress });
  };
  const partsDir =
    options.partsDir ?? (await mkdtemp(join(dirname(out ?? options.errorsPath), '.platen-parts-')));
  const finished = async (result: SavedChunk, rows: number) => {
    progress.done += rows;
    progress.rendered += result.rendered;
    progress.rejected += result.rejected.length;
    progress.heldOut += result.heldOut;
    await tick();
    return result;
  };

  let output: string | null = null;
  // Chunks in flight, in row order: enough to keep every worker busy while the first is joined.
  // Their rows are not kept here: a worker reports a rejected row with its cells.
  const pending: Promise<SavedChunk>[] = [];
  try {
    const writeFile = options.writeFile ?? writeAtomically;
    await writeFile(options.errorsPath, async (errorsOut) => {
      const report = new ErrorReport(errorsOut);
      const assemble = async (assembler: Assembler | null) => {
        const joinNext = async () => {
          const chunk = await pending.shift()!;
          for (const { cells, ...rejected } of chunk.rejected)
            report.add(rejected, rejected.problems, (_path, i) => cells[i]!);
          if (chunk.part !== null) await assembler!.append(chunk, chunk.part);
        };
        for await (const [index, rows] of chunks(input.rows, chunkRows)) {
          signal?.throwIfAborted();
          const saved = checkpoints?.get(index);
          const result = saved
            ? finished(saved, rows.length)
            : dispatcher
                .run(
                  {
                    // Imposed sheets carry the marks, not the pieces on them.
                    template: options.impose ? { ...options.template, marks: false } : options.template,
                    kind,
                    index,
                    rows,
                    mapping,
                    rep: options.rep,
                    ...(options.reps ? { reps: repsIn(rows, options.reps) } : {}),
                    part: kind === 'check' ? null : join(partsDir, `${String(index).padStart(6, '0')}.part`),
                    ...(options.pieces ? { pieces: options.pieces } : {}),
                    today,
                    created: created.toISOString(),
                  },
                  signal,
                )
                .then(async (chunk) => {
                  await checkpoints?.save(chunk);
                  return finished(chunk, rows.length);
                });
          result.catch(() => undefined); // awaited in order by joinNext(); not an unhandled rejection
          pending.push(result);
          while (pending.length >= 2 * dispatcher.concurrency) await joinNext();
        }
        while (pending.length > 0) await joinNext();
        await counted;
        await assembler?.end();
      };
      // A part goes once it is joined, unless a resumed job may need it again.
      const release = async (part: string) => {
        if (!checkpoints) await rm(part, { force: true });
      };
      if (out === null) await assemble(null);
      else
        output = await writeOutput(writeFile, out, kind, assemble, {
          release,
          dispatcher,
          impose,
        });
      await report.end();
    });
  } catch (error) {
    // Chunks still rendering would go on writing parts (and checkpoints) after the batch has failed,
    // into a folder its caller may be about to remove: they are waited for.
    await Promise.allSettled(pending);
    throw error;
  } finally {
    if (!options.partsDir) await rm(partsDir, { recursive: true, force: true });
  }
  await tick();
  return { ...progress, mapping, output };
}

/**
 * Rows per chunk. A merged drop's parts each carry their own fonts and recurring lines (tens of KB),
 * so its chunks are large; a ZIP's have no such cost and are smaller, for steadier progress. Either
 * way a small drop is split so every worker has a share.
 */
export function chunkSize(total: number, kind: ChunkKind, workers: number): number {
  return Math.max(1, Math.min(mostRows(kind), Math.ceil(total / (2 * workers))));
}

function mostRows(kind: ChunkKind): number {
  return kind === 'zip' ? 200 : 1000;
}

/** Rows from which a drop's chunks are all the largest size (chunkSize). */
function largeDrop(kind: ChunkKind, workers: number): number {
  return 2 * workers * mostRows(kind);
}

async function* chunks(rows: AsyncIterable<CsvRow>, size: number): AsyncGenerator<[number, CsvRow[]]> {
  let index = 0;
  let chunk: CsvRow[] = [];
  for await (const row of rows) {
    chunk.push(row);
    if (chunk.length === size) {
      yield [index++, chunk];
      chunk = [];
    }
  }
  if (chunk.length > 0) yield [index, chunk];
}

/**
 * What is wrong with a drop's rep on its own (a profile without a detail the template requires):
 * every row would be rejected for it, so the drop stops before its first row instead.
 */
export function repProblems(compiled: CompiledTemplate, rep: Record<string, unknown>): Problem[] {
  const checked = validateRecord(compiled, { rep, prospect: {}, fields: {} });
  return checked.ok ? [] : checked.problems.filter((p) => p.path === 'rep' || p.path.startsWith('rep.'));
}

/** Rows a refusal names, at most; the rest are counted. */
const MOST_NAMED_ROWS = 20;

/**
 * The rows a rerun renders (the rows a report lists, as corrected in the list) and how many they are.
 * A list that lacks any of them is refused before anything runs, naming each as the report did:
 * rendering the rest would end "done" with rows silently left out, and a list shorter than the
 * report's is most often another list, whose rows are not the ones that were rejected.
 */
export async function rerunRows(
  input: CsvInput,
  reported: ReportedRows,
): Promise<{ onlyRows: ReadonlySet<number>; total: number }> {
  let last = 0;
  for (const row of reported.keys()) last = Math.max(last, row);
  // Rows are numbered without gaps: the list has every row up to its count, and no other.
  const count = await countRows(input, last);
  const missing = [...reported].filter(([row]) => row > count).sort(([a], [b]) => a - b);
  if (missing.length > 0) {
    const named = missing.slice(0, MOST_NAMED_ROWS).map(([row, line]) => `${row} (line ${line})`);
    const more = missing.length - named.length;
    throw new PlatenError('missing_rows', [
      {
        path: 'csv',
        rule: 'missing_rows',
        message:
          `the list has ${count} row${count === 1 ? '' : 's'}, so not the rejected row${missing.length === 1 ? '' : 's'} ` +
          `${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}: send the whole list, with the rejected rows corrected where they were`,
      },
    ]);
  }
  return { onlyRows: new Set(reported.keys()), total: reported.size };
}

/** Just these rows of a list (by row number), as when rejected rows are corrected and run again. */
export function onlyRowsOf(input: CsvInput, only: ReadonlySet<number>): CsvInput {
  async function* selected(): AsyncGenerator<CsvRow> {
    for await (const row of input.rows) if (only.has(row.row)) yield row;
  }
  // Rows can be read more than once (counted, then rendered): each read filters afresh.
  return { ...input, rows: { [Symbol.asyncIterator]: selected } };
}

/** The reps some rows name: a chunk is sent only the profiles (and photos) it uses. */
function repsIn(rows: CsvRow[], reps: RowReps): RowReps {
  const byId: Record<string, RepPart> = {};
  for (const row of rows) {
    const id = repIdOf(row, reps.column);
    const rep = reps.byId[id];
    if (rep) byId[id] = rep;
  }
  return { column: reps.column, byId };
}

/** The distinct values of a column (a rep column's profile ids), at most `most`; throws beyond. */
export async function distinctValues(input: CsvInput, column: string, most: number): Promise<Set<string>> {
  const values = new Set<string>();
  for await (const row of input.rows) {
    const value = (row.values[column] ?? '').trim();
    if (value === '' || values.has(value)) continue;
    if (values.size === most)
      throw new PlatenError('invalid_csv', [
        { path: column, rule: 'too_many', message: `names more than ${most} different values` },
      ]);
    values.add(value);
  }
  return values;
}

/** Rows in the file (or `most`, if it has at least that many), so progress can show a total and an ETA. */
export async function countRows(input: CsvInput, most = Infinity): Promise<number> {
  let total = 0;
  for await (const _ of input.rows) if (++total === most) break;
  return total;
}

/** Joins finished parts, in row order, into the drop's output. */
interface Assembler {
  /** Takes a chunk's part (a file), which it releases once it has read it. */
  append(chunk: SavedChunk, part: string): Promise<void>;
  /** Throws NothingRendered when no part came. */
  end(): Promise<void>;
}

class NothingRendered extends Error {}

interface AssemblyOptions {
  /** Called with each part once it has been read. */
  release: (part: string) => Promise<void>;
  dispatcher: ChunkDispatcher;
  impose: Imposition | undefined;
}

async function writeOutput(
  writeFile: FileWriter,
  out: string,
  kind: ChunkKind,
  assemble: (assembler: Assembler) => Promise<void>,
  options: AssemblyOptions,
): Promise<string | null> {
  try {
    await writeFile(out, (stream) =>
      assemble(kind === 'zip' ? new ZipAssembler(stream, options) : new PdfAssembler(stream, options)),
    );
    return out;
  } catch (error) {
    // Every row rejected: there is no output to write, and the report says why.
    if (error instanceof NothingRendered) return null;
    throw error;
  }
}

/**
 * A merged drop's parts joined in row order. Each part's place is planned here as it comes (from
 * the survey its worker made), and its relocation, the join's work per object, runs on the
 * dispatcher's threads, several parts at once; this thread only places relocated parts, in order.
 * Imposed parts are appended whole (see PdfJoiner).
 */
class PdfAssembler implements Assembler {
  private readonly joiner: PdfJoiner;
  private parts = 0;
  /** Parts planned and being relocated, in row order. */
  private readonly relocating: { plan: RelocationPlan; relocated: Promise<RelocatedPart> }[] = [];
  private readonly relocate: (part: string, plan: RelocationPlan) => Promise<RelocatedPart>;

  constructor(
    out: Writable,
    private readonly options: AssemblyOptions,
  ) {
    const { impose, dispatcher } = options;
    this.joiner = new PdfJoiner(out, impose ? { impose } : {});
    this.relocate =
      dispatcher.relocate?.bind(dispatcher) ??
      (async (part, plan) => relocatePart(await readFile(part), plan));
  }

  async append(chunk: SavedChunk, part: string): Promise<void> {
    this.parts += 1;
    if (this.options.impose) {
      await this.joiner.append(await readFile(part));
      await this.options.release(part);
      return;
    }
    // A part saved before parts had surveys (a job resumed across an upgrade) is surveyed here.
    const plan = this.joiner.plan(chunk.survey ?? surveyPart(await readFile(part)));
    const relocated = this.relocate(part, plan).then(async (relocated) => {
      await this.options.release(part);
      return relocated;
    });
    relocated.catch(() => undefined); // awaited in order by placeNext(); not an unhandled rejection
    this.relocating.push({ plan, relocated });
    while (this.relocating.length > this.options.dispatcher.concurrency) await this.placeNext();
  }

  async end(): Promise<void> {
    if (this.parts === 0) throw new NothingRendered();
    while (this.relocating.length > 0) await this.placeNext();
    await this.joiner.end();
  }

  private async placeNext(): Promise<void> {
    const { plan, relocated } = this.relocating.shift()!;
    await this.joiner.place(await relocated, plan);
  }
}

class ZipAssembler implements Assembler {
  private readonly zip: ZipWriter;
  private readonly used = new Set<string>();

  constructor(
    out: Writable,
    private readonly options: AssemblyOptions,
  ) {
    this.zip = new ZipWriter(out);
  }

  async append(chunk: SavedChunk, path: string): Promise<void> {
    const part = await readFile(path);
    let offset = 0;
    for (const { row, name, bytes, crc32 } of chunk.files) {
      await this.zip.add(
        uniqueSafeName(name, String(row), this.used),
        part.subarray(offset, offset + bytes),
        crc32,
      );
      offset += bytes;
    }
    await this.options.release(path);
  }

  async end(): Promise<void> {
    if (this.zip.files === 0) throw new NothingRendered();
    await this.zip.end();
  }
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
