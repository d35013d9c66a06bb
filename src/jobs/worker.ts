import { TemplateCache } from '../template/cache.js';
import { compileTemplate, withMarks } from '../template/compile.js';
import type { CompiledTemplate } from '../model/template.js';
import { type ChunkResult, type ChunkTask, renderChunk, type TemplateSource } from './chunk.js';
import { toCrossing } from './dispatch.js';
import { drawPiece, type PieceResult, type PieceTask, type RasterTask } from './piece.js';
import { rasterizePage } from '../render/raster.js';
import { readFile } from 'node:fs/promises';
import { type RelocatedPart, relocatePart, type RelocationPlan } from '../render/relocate.js';

/**
 * A pool's worker thread (see dispatch.ts): renders chunks and single pieces, compiling each template
 * once and keeping it for the tasks that follow, draws kept pieces' pages as PNG, and relocates
 * merged drops' parts.
 */
const templates = new TemplateCache(4);
/**
 * Drafts being designed, apart: each change of a draft is a new one, which must not push out the
 * templates that jobs and renders use. Each holds its fonts and images in memory: a few are kept.
 */
const drafts = new TemplateCache(4);

function compiled({ dir, version, draft }: TemplateSource): Promise<CompiledTemplate> {
  if (draft !== undefined) return drafts.get(draft, 0, () => compileTemplate(dir));
  return templates.get(dir, version ?? 0, () =>
    compileTemplate(dir, version === undefined ? {} : { version }),
  );
}

/** The pool's no-op (see WorkerPool.close): answered once this module has loaded. */
export function loaded(): null {
  return null;
}

export default async function run(task: ChunkTask): Promise<ChunkResult> {
  try {
    return await renderChunk(withMarks(await compiled(task.template), task.template.marks), task);
  } catch (error) {
    throw toCrossing(error);
  }
}

export async function piece(task: PieceTask): Promise<PieceResult> {
  try {
    return await drawPiece(await compiled(task.template), task);
  } catch (error) {
    throw toCrossing(error);
  }
}

export async function rasterize({ pdf, page, scale }: RasterTask): Promise<Uint8Array> {
  try {
    return await rasterizePage(pdf, page, scale);
  } catch (error) {
    throw toCrossing(error);
  }
}

export async function relocate(task: { part: string; plan: RelocationPlan }): Promise<RelocatedPart> {
  try {
    return relocatePart(await readFile(task.part), task.plan);
  } catch (error) {
    throw toCrossing(error);
  }
}
