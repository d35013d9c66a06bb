import { createHash } from 'node:crypto';
import type { PreparedImage } from '../assets/images.js';
import { joinPath, PlatenError, type Problem, problemsFromZod } from '../errors.js';
import type { Span } from '../layout/fit.js';
import type { MergeContext } from '../template/handlebars.js';
import type { CompiledElement, CompiledTemplate, CompiledText, DrawItem } from '../template/model.js';
import type { PieceRecord } from '../template/record-schema.js';
import { conditionHolds } from './conditions.js';
import { imbBars } from './mail.js';
import { spansOf } from './spans.js';

/**
 * Validate + merge: a record is checked against the template's schema, then every element is
 * resolved to concrete content. The output is a Piece: plain data, no PDF objects.
 */

/** A text element whose words are known but whose lines are not yet: fit's job. */
export interface TextToFit {
  kind: 'fit';
  element: CompiledText;
  spans: Span[];
}

export interface Piece {
  templateId: string;
  version: number;
  record: PieceRecord;
  /** SHA-256 of the canonical record (images by content hash): traces a PDF to its exact inputs. */
  recordHash: string;
  pages: (DrawItem | TextToFit)[][];
}

/** Images a record refers to by its image inputs' values (uploads, profile photos, sample assets). */
export type RecordImages = ReadonlyMap<string, PreparedImage>;

/** Checks a record against the template; the problems name the record path and the rule. */
export function validateRecord(
  compiled: CompiledTemplate,
  input: unknown,
): { ok: true; record: PieceRecord } | { ok: false; problems: Problem[] } {
  const parsed = compiled.recordSchema.safeParse(input);
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

/** Validates and merges; throws PlatenError('invalid_record') with every problem. */
export function mergeRecord(compiled: CompiledTemplate, input: unknown, images: RecordImages): Piece {
  const validated = validateRecord(compiled, input);
  if (!validated.ok) throw new PlatenError('invalid_record', validated.problems);
  const record = validated.record;
  const context = mergeContext(compiled, record);
  const problems: Problem[] = [];
  const imageHashes = new Map<string, string>();

  const resolveImage = (el: Extract<CompiledElement, { kind: 'image' }>): PreparedImage | undefined => {
    if (el.source.kind === 'input') {
      const [scope, key] = el.source.path.split('.') as [keyof PieceRecord, string];
      const ref = record[scope][key];
      if (typeof ref !== 'string' || ref === '') return el.fallback;
      const image = images.get(ref);
      if (!image) {
        problems.push({ path: el.source.path, rule: 'missing_image', message: `image not found: ${ref}` });
        return undefined;
      }
      const def = compiled.inputs[scope][key]!;
      if (image.width < (def.minWidth ?? 0) || image.height < (def.minHeight ?? 0)) {
        problems.push({
          path: el.source.path,
          rule: 'image_too_small',
          message: `the image is ${image.width}×${image.height} px; at least ${def.minWidth ?? 1}×${def.minHeight ?? 1} px is required`,
        });
      }
      imageHashes.set(el.source.path, image.sha256);
      return image;
    }
    const path = el.source.render(context);
    const image = compiled.assets.get(path) ?? el.fallback;
    if (!image)
      problems.push({
        path: `elements.${el.name}`,
        rule: 'missing_image',
        message: `no image ${path} in the template`,
      });
    return image;
  };

  const pages = compiled.pages.map((page) => {
    const items: (DrawItem | TextToFit)[] = [];
    for (const layer of page.layers) {
      if (layer.kind === 'static') {
        items.push(layer);
        continue;
      }
      if (layer.when && !conditionHolds(layer.when, context)) continue;
      switch (layer.kind) {
        case 'text':
          items.push({ kind: 'fit', element: layer, spans: spansOf(layer.render(context), layer.uppercase) });
          break;
        case 'image': {
          const image = resolveImage(layer);
          if (image)
            items.push({
              kind: 'image',
              name: layer.name,
              box: layer.box,
              fit: layer.fit,
              image,
              ...(layer.keepRgb ? { keepRgb: true } : {}),
            });
          break;
        }
        case 'imb': {
          const result = imbBars(layer.tracking(context), layer.routing(context));
          if ('problem' in result)
            problems.push({ path: `elements.${layer.name}`, rule: 'imb', message: result.problem });
          else
            items.push({
              kind: 'imb',
              name: layer.name,
              box: layer.box,
              bars: result.bars,
              color: layer.color,
            });
          break;
        }
        case 'qr':
          items.push({
            kind: 'qr',
            name: layer.name,
            box: layer.box,
            content: layer.render(context),
            color: layer.color,
            errorCorrection: layer.errorCorrection,
          });
          break;
        case 'fixed':
          items.push(layer.item);
          break;
      }
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
export function pieceFileName(compiled: CompiledTemplate, record: PieceRecord): string | null {
  return compiled.fileName ? compiled.fileName(mergeContext(compiled, record)) : null;
}

/** The Handlebars context: every declared input present (strict mode), absent optional ones empty. */
function mergeContext(compiled: CompiledTemplate, record: PieceRecord): MergeContext {
  const scope = (inputs: Record<string, unknown>, values: PieceRecord[keyof PieceRecord]) =>
    Object.fromEntries(Object.keys(inputs).map((key) => [key, values[key] ?? '']));
  return {
    rep: scope(compiled.inputs.rep, record.rep),
    prospect: scope(compiled.inputs.prospect, record.prospect),
    fields: scope(compiled.inputs.fields, record.fields),
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
