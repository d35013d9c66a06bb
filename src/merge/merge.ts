import { createHash } from 'node:crypto';
import type { PreparedImage } from '../assets/images.js';
import type { RecordContext } from '../elements/kind.js';
import { kindOf } from '../elements/registry.js';
import { joinPath, PlatenError, type Problem, problemsFromZod } from '../errors.js';
import type { DrawItem } from '../model/kinds.js';
import type { Piece, RecordImages } from '../model/piece.js';
import { pieceIdentity, SAMPLE_PIECE_CODE } from '../model/piece-code.js';
import type { MergeContext, PieceIdentity, PieceRecord } from '../model/record.js';
import { isoDay, TODAY } from '../model/manifest.js';
import type { CompiledTemplate } from '../model/template.js';
import type { TextToFit } from '../model/text.js';
import { conditionHolds } from './conditions.js';

/**
 * Validate + merge: a record is checked against the template's schema, then every element is
 * resolved to concrete content by its kind. The output is a Piece: plain data, no PDF objects.
 */

/**
 * Checks a record against the template; the problems name the record path and the rule. A date input
 * whose default is the day of the run takes `today` (YYYY-MM-DD; by default the machine's day) when
 * the record leaves it blank: a batch job resolves it once and hands it to every row.
 */
export function validateRecord(
  compiled: Pick<CompiledTemplate, 'recordSchema' | 'inputs'>,
  input: unknown,
  today?: string,
): { ok: true; record: PieceRecord } | { ok: false; problems: Problem[] } {
  const parsed = compiled.recordSchema.safeParse(withToday(compiled.inputs, input, today));
  if (parsed.success) return { ok: true, record: parsed.data };
  const problems: Problem[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          path: joinPath('', [...issue.path, key]),
          rule: 'unknown_key',
          message: 'not an input of this template (locked content cannot be changed)',
        });
      }
    } else {
      problems.push(...problemsFromZod([issue]));
    }
  }
  return { ok: false, problems };
}

/**
 * The record with `today` in each blank date input whose default is the day of the run. A record with
 * no such input to fill is the record itself, and the day is read only when one is filled: this runs
 * for every row of a batch.
 */
function withToday(inputs: CompiledTemplate['inputs'], input: unknown, today: string | undefined): unknown {
  if (!isObject(input)) return input;
  let record: Record<string, unknown> | null = null;
  for (const scope of ['rep', 'prospect', 'fields'] as const) {
    const defs = inputs[scope];
    const given = input[scope];
    if (given !== undefined && !isObject(given)) continue;
    let values: Record<string, unknown> | null = null;
    for (const key in defs) {
      if (defs[key]!.default !== TODAY) continue;
      const value = given?.[key];
      if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
        values ??= { ...given };
        values[key] = today ??= isoDay(new Date());
      }
    }
    if (values) (record ??= { ...input })[scope] = values;
  }
  return record ?? input;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The identity previews, sample checks and the offline CLI print: a well-formed code that names no
 * piece, so the QR codes and text they show are the size a real piece's are.
 */
const SAMPLE_PIECE: PieceIdentity = pieceIdentity('https://platen.example', SAMPLE_PIECE_CODE);

/**
 * Validates and merges; throws PlatenError('invalid_record') with every problem. `identity` is the
 * piece's own (its tracked URL and code); a preview or check leaves it out and prints the sample.
 * `today` is the day of the run (see validateRecord).
 */
export function mergeRecord(
  compiled: CompiledTemplate,
  input: unknown,
  images: RecordImages,
  identity: PieceIdentity = SAMPLE_PIECE,
  today?: string,
): Piece {
  const validated = validateRecord(compiled, input, today);
  if (!validated.ok) throw new PlatenError('invalid_record', validated.problems);
  const record = validated.record;
  const values = mergeContext(compiled, record, identity);
  const problems: Problem[] = [];
  const imageHashes = new Map<string, string>();
  const context: RecordContext = {
    values,
    // A scanner's visit is told from a typed one by a mark on the URL that only codes carry.
    scanValues: { ...values, piece: { ...values.piece, url: `${identity.url}?qr` } },
    record,
    problem: (problem) => problems.push(problem),
    recordImage: (ref) => images.get(ref),
    asset: (rel) => compiled.assets.get(rel),
    input: (path) => {
      const [scope, key] = path.split('.') as [keyof PieceRecord, string];
      return compiled.inputs[scope][key];
    },
    usedImage: (path, image: PreparedImage) => imageHashes.set(path, image.sha256),
  };

  const pages = compiled.pages.map((page) => {
    const items: (DrawItem | TextToFit)[] = [];
    for (const layer of page.layers) {
      if (layer.kind === 'static') {
        items.push(layer);
        continue;
      }
      if (layer.when && !conditionHolds(layer.when, values)) continue;
      const merged = kindOf(layer.kind).merge(layer, context) as
        DrawItem | TextToFit | (DrawItem | TextToFit)[] | null;
      if (Array.isArray(merged)) items.push(...merged);
      else if (merged) items.push(merged);
    }
    return items;
  });
  if (problems.length > 0) throw new PlatenError('invalid_record', problems);
  return {
    templateId: compiled.id,
    version: compiled.version,
    record,
    recordHash: recordHash(record, imageHashes),
    pages,
  };
}

/** The name the template gives a piece's own PDF (manifest `output.fileName`), or null if it sets none. */
export function pieceFileName(
  compiled: CompiledTemplate,
  record: PieceRecord,
  identity: PieceIdentity = SAMPLE_PIECE,
): string | null {
  return compiled.fileName ? compiled.fileName(mergeContext(compiled, record, identity)) : null;
}

/** Where a piece's tracked URL leads (manifest `output.landingUrl`), or null if the template names none. */
export function landingUrl(
  compiled: CompiledTemplate,
  record: PieceRecord,
  identity: PieceIdentity,
): string | null {
  return compiled.landingUrl ? compiled.landingUrl(mergeContext(compiled, record, identity)) : null;
}

/** The Handlebars context: every declared input present (strict mode), absent optional ones empty. */
function mergeContext(
  compiled: CompiledTemplate,
  record: PieceRecord,
  identity: PieceIdentity,
): MergeContext {
  const scope = (inputs: Record<string, unknown>, values: PieceRecord[keyof PieceRecord]) =>
    Object.fromEntries(Object.keys(inputs).map((key) => [key, values[key] ?? '']));
  return {
    rep: scope(compiled.inputs.rep, record.rep),
    prospect: scope(compiled.inputs.prospect, record.prospect),
    fields: scope(compiled.inputs.fields, record.fields),
    piece: { url: identity.url, code: identity.code },
  };
}

function recordHash(record: PieceRecord, imageHashes: Map<string, string>): string {
  const canonical: Record<string, Record<string, unknown>> = {};
  for (const scope of ['rep', 'prospect', 'fields'] as const) {
    const values = record[scope];
    canonical[scope] = Object.fromEntries(
      Object.keys(values)
        .sort()
        .filter((key) => values[key] !== undefined)
        .map((key) => [
          key,
          imageHashes.has(`${scope}.${key}`) ? `sha256:${imageHashes.get(`${scope}.${key}`)}` : values[key],
        ]),
    );
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
