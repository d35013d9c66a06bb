import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type { PreparedImage } from '../assets/images.js';
import { PlatenError, type Problem } from '../errors.js';
import { roomIn } from '../files.js';
import { fitPieceOrThrow } from '../layout/piece.js';
import type { FittedPiece } from '../model/piece.js';
import { pieceFacts } from '../merge/facts.js';
import { landingUrl, mergeRecord, pieceFileName } from '../merge/merge.js';
import { renderToBuffer, writePieces } from '../pipeline.js';
import { type PartSurvey, surveyPart } from '../render/relocate.js';
import type { InputDef } from '../model/manifest.js';
import type { PieceIdentity, PieceRecord } from '../model/record.js';
import type { CompiledTemplate } from '../model/template.js';
import type { CsvRow } from './csv.js';
import { armOf, isHeldOut, type JobPieces, rowIdentity } from './experiment.js';
import { withHint } from './hints.js';
import { type ColumnMapping, prospectOf } from './mapping.js';
import { quoted } from './visible.js';

/**
 * A chunk: contiguous rows of a drop, rendered as a unit by one worker. Each row is validated,
 * merged and fitted exactly as a single render is; a bad row is rejected with its problems and never
 * stops the chunk. Good rows go into a part file that the job later joins, in row order, into the
 * output: a whole PDF (a merged drop) or the rows' PDFs one after another (a ZIP drop). A finished
 * part is a checkpoint: a resumed job renders only the chunks it has no part for.
 *
 * Tasks and results cross a thread (or, one day, a machine) boundary: plain data only.
 */

export type ChunkKind = 'pdf' | 'zip' | 'check';

/** The `rep` part of the records, with the images it names (as prepared once by the job). */
export interface RepPart {
  values: Record<string, unknown>;
  images: [string, PreparedImage][];
}

/**
 * A template as workers compile it: its package (and version, for stored templates), with marks
 * switched on or off whatever its default (see withMarks).
 */
export interface TemplateSource {
  dir: string;
  version?: number;
  marks?: boolean;
  /**
   * A designer's draft staged in `dir` for one task: its content key, by which a worker keeps what
   * it compiled (the folder is gone after the task).
   */
  draft?: string;
}

/** A rep per row: the column naming each row's rep profile, and those profiles (as `rep` parts). */
export interface RowReps {
  column: string;
  byId: Record<string, RepPart>;
}

export interface ChunkTask {
  template: TemplateSource;
  kind: ChunkKind;
  index: number;
  rows: CsvRow[];
  mapping: ColumnMapping;
  /** The drop's rep: on every piece, or on those whose row names none. */
  rep: RepPart | null;
  /** The reps the chunk's rows name, if the list has a rep column. */
  reps?: RowReps;
  /** Where the part goes; null for a check (preflight), which draws nothing. */
  part: string | null;
  /** A service job's row identities and experiment; without, rows print the sample identity. */
  pieces?: JobPieces;
  /** The day of the job (YYYY-MM-DD), for date inputs that default to it: the same on every row. */
  today: string;
  /** When the job started (ISO 8601): every part's creation date, so a chunk's part is the same bytes on any worker. */
  created: string;
}

/**
 * A rejected row as the error report lists it: its numbers, its problems, and for each problem the
 * CSV column and cell it is about. The cells are looked up here, in the worker, so that the
 * coordinating thread need not keep a chunk's rows while the chunk renders.
 */
export interface RejectedRow {
  row: number;
  line: number;
  problems: Problem[];
  /** One per problem, in the same order. */
  cells: { column: string; value: string }[];
}

export interface ChunkResult {
  index: number;
  rendered: number;
  pages: number;
  /** Rejected rows, with every problem. */
  rejected: RejectedRow[];
  /**
   * ZIP drops: each good row's PDF in the part, in order, with the name the template gives it and its
   * CRC-32 (computed here, natively, for the ZIP's directory).
   */
  files: { row: number; name: string | null; bytes: number; crc32: number }[];
  /** The part written, or null when no row of the chunk rendered (or a check). */
  part: string | null;
  /** A merged drop's part: its size and images, for the joiner to plan its place (see PdfJoiner.plan). */
  survey?: PartSurvey;
  /** Rows held out of the print run (validated, not drawn). */
  heldOut: number;
  /**
   * A service job's pieces, printed or held out, in row order, for the job to record (a check's
   * rows are no pieces, and rejected rows none).
   */
  pieces: RowPiece[];
}

/** A piece of a job's row, as the job records it (with the job's own facts: see NewPiece). */
export interface RowPiece {
  row: number;
  number: number;
  code: string;
  /** The rep profile the row's rep cell names; null for the job's rep. */
  repId: string | null;
  recipientRef: string | null;
  landingUrl: string | null;
  choices: Record<string, string>;
  edited: string[];
  variant: string | null;
  holdout: boolean;
}

/** Renders one chunk with a compiled template (compiled once per worker; see worker.ts). */
export async function renderChunk(compiled: CompiledTemplate, task: ChunkTask): Promise<ChunkResult> {
  const result: ChunkResult = {
    index: task.index,
    rendered: 0,
    pages: 0,
    rejected: [],
    files: [],
    part: null,
    heldOut: 0,
    pieces: [],
  };
  // Image refs name their content (see RenderService.repPart), so every rep's photos share one map.
  const reps = [...(task.rep ? [task.rep] : []), ...Object.values(task.reps?.byId ?? {})];
  const images = new Map(reps.flatMap((rep) => rep.images.map(([ref, image]) => [ref, asBuffers(image)])));
  // Pieces are drawn as they are fitted: a chunk's pieces are never all held at once.
  function* goodRows(): Generator<DrawnRow> {
    for (const row of task.rows) {
      let piece: PreparedRow;
      try {
        piece = prepareRow(compiled, row, task, images);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        const cells = error.problems.map((problem) => cellOf(problem.path, row, task.mapping));
        const problems = error.problems.map((problem, i) =>
          withHint(problem, inputOf(compiled, problem.path), cells[i]!.value),
        );
        result.rejected.push({ row: row.row, line: row.line, problems, cells });
        continue;
      }
      if (piece.made && task.kind !== 'check') result.pieces.push(piece.made);
      if (piece.made?.holdout) {
        result.heldOut += 1;
        continue;
      }
      result.rendered += 1;
      yield piece;
    }
  }
  const rows = goodRows();
  const first = rows.next();
  if (task.part === null || first.done) {
    for (const _ of rows); // a check: every row validated and fitted, nothing drawn
    return result;
  }
  function* all(): Generator<DrawnRow> {
    yield first.value!;
    yield* rows;
  }

  const out = createWriteStream(task.part);
  // A write that fails (a full disk) is met by roomIn() or finished() below, which reject the chunk;
  // unheard, its 'error' event would take the whole worker down with it.
  out.on('error', () => undefined);
  const created = new Date(task.created);
  if (task.kind === 'pdf') {
    result.pages = (await writePieces(compiled, piecesOf(all()), out, { created })).pages;
  } else {
    for (const { piece, fileName } of all()) {
      const pdf = await renderToBuffer(compiled, [piece], { created });
      result.files.push({
        row: Number(piece.marker!.label),
        name: fileName,
        bytes: pdf.length,
        crc32: crc32(pdf),
      });
      result.pages += piece.pages.length;
      out.write(pdf);
      await roomIn(out);
    }
    out.end();
  }
  await finished(out);
  result.part = task.part;
  // What the joiner plans the part's place by (render/relocate.ts): read here, on this worker's thread.
  if (task.kind === 'pdf') result.survey = surveyPart(await readFile(task.part));
  return result;
}

interface DrawnRow {
  piece: FittedPiece;
  fileName: string | null;
}

/** A row ready to draw, and in a service job the piece it makes. */
interface PreparedRow extends DrawnRow {
  made: RowPiece | null;
}

function* piecesOf(rows: Iterable<DrawnRow>): Generator<FittedPiece> {
  for (const { piece } of rows) yield piece;
}

/**
 * One row's piece, validated, merged and fitted (a held-out row's too: it is rejected if it would
 * be); throws PlatenError naming what is wrong.
 */
function prepareRow(
  compiled: CompiledTemplate,
  row: CsvRow,
  task: ChunkTask,
  images: Map<string, PreparedImage>,
): PreparedRow {
  const extra = row.extra.filter((cell) => cell.trim() !== '');
  const unreadable: Problem[] = [
    ...(row.problems ?? []),
    ...(extra.length > 0
      ? [{ path: 'csv', rule: 'ragged_row', message: `${extra.length} more cell(s) than the header has` }]
      : []),
  ];
  if (unreadable.length > 0) throw new PlatenError('unreadable_row', unreadable);
  const prospect = rowProspect(compiled, row, task.mapping);
  refuseImages(prospect, compiled.inputs.prospect);
  const rep = repOf(row, task);
  const record: Record<keyof PieceRecord, Record<string, unknown>> = {
    rep: rep.values,
    prospect,
    fields: {},
  };
  const { pieces } = task;
  const variant = pieces ? armOf(pieces, row.row) : null;
  if (variant !== null) {
    // The arm overrides whatever the row says: the split, not the list, chooses.
    const [scope, key] = pieces!.split!.input.split('.') as [keyof PieceRecord, string];
    record[scope] = { ...record[scope], [key]: variant };
  }
  const identity = pieces ? rowIdentity(pieces, row.row) : undefined;
  const merged = mergeRecord(compiled, record, images, identity, task.today);
  const piece = fitPieceOrThrow(merged);
  const fileName = pieceFileName(compiled, merged.record, identity);
  piece.marker = {
    title: `Row ${row.row}${fileName ? `: ${fileName.replace(/\.pdf$/i, '')}` : ''}`,
    label: String(row.row),
  };
  const made = pieces ? rowPiece(compiled, row, task, pieces, merged.record, identity!, variant) : null;
  return { piece, fileName, made };
}

/**
 * What a job records of a row's piece. A held-out row printed nothing: it keeps who it was for, and
 * no arm, choices or landing page, so that it counts only as the control group it is.
 */
function rowPiece(
  compiled: CompiledTemplate,
  row: CsvRow,
  task: ChunkTask,
  pieces: JobPieces,
  record: PieceRecord,
  identity: PieceIdentity & { number: number },
  variant: string | null,
): RowPiece {
  const facts = pieceFacts(compiled, record);
  const column = pieces.recipientColumn;
  const recipientRef = column === undefined ? facts.recipientRef : (row.values[column] ?? '').trim() || null;
  const repId = task.reps ? repIdOf(row, task.reps.column) || null : null;
  // A list fills no rep fields (and a split's arm is not the rep's edit): a row's piece has none edited.
  const common = {
    row: row.row,
    number: identity.number,
    code: identity.code,
    repId,
    recipientRef,
    edited: [],
  };
  if (isHeldOut(pieces, row.row))
    return { ...common, landingUrl: null, choices: {}, variant: null, holdout: true };
  return {
    ...common,
    landingUrl: landingUrl(compiled, record, identity),
    choices: facts.choices,
    variant,
    holdout: false,
  };
}

/** The rep profile a row's rep cell names ('' for none). */
export function repIdOf(row: CsvRow, column: string): string {
  return (row.values[column] ?? '').trim();
}

/** The rep on a row's piece: the one its rep cell names, else the drop's; throws naming the cell. */
function repOf(row: CsvRow, task: ChunkTask): RepPart {
  const column = task.reps?.column;
  const id = column === undefined ? '' : repIdOf(row, column);
  if (id !== '') {
    const rep = task.reps!.byId[id];
    if (rep) return rep;
    throw new PlatenError('unknown_rep', [
      { path: column!, rule: 'unknown_rep', message: `no rep profile ${quoted(id)}` },
    ]);
  }
  if (task.rep) return task.rep;
  throw new PlatenError('invalid_record', [
    { path: column ?? 'rep', rule: 'required', message: 'names no rep, and the job has none for such rows' },
  ]);
}

/**
 * A list carries no images: an image input's cell could only name an image stored for someone else
 * (the job's rep photos among them), so a row that fills one is rejected, naming its column.
 */
function refuseImages(prospect: Record<string, unknown>, inputs: Record<string, InputDef>): void {
  const problems = Object.entries(inputs)
    .filter(([key, def]) => def.type === 'image' && prospect[key] !== undefined && prospect[key] !== '')
    .map(([key, def]) => ({
      path: `prospect.${key}`,
      rule: 'image_in_list',
      message: `"${def.label ?? key}" cannot come from a list: leave the column empty`,
    }));
  if (problems.length > 0) throw new PlatenError('invalid_record', problems);
}

/** Spreadsheet spellings of yes and no, for boolean inputs (a CSV holds only text). */
const YES = /^(true|yes|y|1|x)$/i;
const NO = /^(false|no|n|0)$/i;

/** The prospect part of a row's record, as a job prints it: its mapped cells, yes and no read as booleans. */
export function rowProspect(
  compiled: CompiledTemplate,
  row: CsvRow,
  mapping: ColumnMapping,
): Record<string, string | boolean> {
  const prospect = prospectOf(row.values, mapping);
  const inputs = compiled.inputs.prospect;
  const out: Record<string, string | boolean> = { ...prospect };
  for (const [key, value] of Object.entries(prospect)) {
    if (inputs[key]?.type !== 'boolean') continue;
    if (YES.test(value.trim())) out[key] = true;
    else if (NO.test(value.trim())) out[key] = false;
  }
  return out;
}

/** A structured clone turns Buffers into plain Uint8Arrays; the draw step wants Buffers back. */
export function asBuffers(image: PreparedImage): PreparedImage {
  const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { ...image, data: buffer(image.data), ...(image.alpha ? { alpha: buffer(image.alpha) } : {}) };
}

/** The prospect input a problem's path names, if any. */
function inputOf(compiled: CompiledTemplate, path: string): InputDef | undefined {
  const key = /^prospect\.([A-Za-z0-9_]+)$/.exec(path)?.[1];
  return key !== undefined && Object.hasOwn(compiled.inputs.prospect, key)
    ? compiled.inputs.prospect[key]
    : undefined;
}

/** The CSV column and cell behind a problem's path (a record path, or a column's header), for the report. */
function cellOf(path: string, row: CsvRow, mapping: ColumnMapping): { column: string; value: string } {
  const match = /^prospect\.([A-Za-z0-9_]+)$/.exec(path);
  const column = match ? mapping.columns[match[1]!] : Object.hasOwn(row.values, path) ? path : undefined;
  return column ? { column, value: row.values[column] ?? '' } : { column: path, value: '' };
}
