import type { PreparedImage } from '../assets/images.js';
import { PlatenError, type Problem } from '../errors.js';
import { fitPiece, fitPieceOrThrow } from '../layout/piece.js';
import { type PieceFacts, pieceFacts, prospectName } from '../merge/facts.js';
import { landingUrl, mergeRecord } from '../merge/merge.js';
import type { FitReportEntry, Piece } from '../model/piece.js';
import type { PieceIdentity } from '../model/record.js';
import type { CompiledTemplate } from '../model/template.js';
import { previewPage, renderToBuffer, samples } from '../pipeline.js';
import { asBuffers, type TemplateSource } from './chunk.js';

/**
 * One piece drawn on a worker thread: a render (the PDF a rep sends), a preview (one page as PNG) or
 * a fit (how each text fits, drawing nothing), for the API, the pages and the designer. The service does what needs the store (who may, whose
 * profile, which uploads, a fresh identity) and sends the record; the worker merges, fits, draws and
 * rasterizes with the template it compiled once. Tasks and results are plain data, as a chunk's are.
 */

/** The record to draw: given whole (with the images it names), or one of the template's samples. */
export type PieceRecordSource = { record: unknown; images: [string, PreparedImage][] } | { sample: number };

export type PieceTask = { template: TemplateSource; source: PieceRecordSource } & (
  | { kind: 'render'; identity: PieceIdentity }
  | {
      kind: 'preview';
      /** Left out, the sample's. */
      identity?: PieceIdentity;
      view: { page: number; scale: number; crop: 'trim' | 'bleed' };
    }
  | {
      kind: 'fit';
      /** Left out, the sample's. */
      identity?: PieceIdentity;
    }
);

export type PieceResult =
  | {
      kind: 'render';
      pdf: Uint8Array;
      recordHash: string;
      landingUrl: string | null;
      facts: PieceFacts;
      /** Whom it is for, as the pieces' list names them. */
      prospectName: string;
    }
  | { kind: 'preview'; png: Uint8Array; report: FitReportEntry[]; problems: Problem[] }
  | { kind: 'fit'; report: FitReportEntry[]; problems: Problem[] };

/** A page of a PDF made earlier (a kept piece's), to be drawn as PNG at `scale` (1 = 72 dpi). */
export interface RasterTask {
  pdf: Uint8Array;
  page: number;
  scale: number;
}

/** Draws a piece with a compiled template (compiled once per worker; see worker.ts). */
export async function drawPiece(compiled: CompiledTemplate, task: PieceTask): Promise<PieceResult> {
  // A stored template's page and sample were checked by the service, which compiled it too; a
  // draft's are checked here, where it is compiled.
  if (task.kind === 'preview' && task.view.page > compiled.pages.length)
    refuse('page', `the template has ${compiled.pages.length} page(s)`);
  const merged = merge(compiled, task);
  if (task.kind === 'fit') {
    const { fitted, problems } = fitPiece(merged);
    return { kind: 'fit', report: fitted.report, problems };
  }
  if (task.kind === 'preview') {
    const { png, fitted, problems } = await previewPage(compiled, merged, task.view);
    return { kind: 'preview', png, report: fitted.report, problems };
  }
  const piece = fitPieceOrThrow(merged);
  return {
    kind: 'render',
    pdf: await renderToBuffer(compiled, [piece]),
    recordHash: piece.recordHash,
    landingUrl: landingUrl(compiled, merged.record, task.identity),
    facts: pieceFacts(compiled, merged.record),
    prospectName: prospectName(merged.record.prospect),
  };
}

/** The piece's record merged; a sample's problems are named by the sample's place in the manifest. */
function merge(compiled: CompiledTemplate, task: PieceTask): Piece {
  const { source } = task;
  if ('record' in source) {
    const images = new Map(source.images.map(([ref, image]) => [ref, known(image)]));
    return mergeRecord(compiled, source.record, images, task.identity);
  }
  const sample = samples(compiled)[source.sample];
  if (!sample) refuse('sample', `there is no sample ${source.sample + 1}: add a sample record`);
  try {
    return mergeRecord(compiled, sample.record, sample.images, task.identity);
  } catch (error) {
    if (!(error instanceof PlatenError)) throw error;
    const under = `samples[${source.sample}].record.`;
    throw new PlatenError(
      error.code,
      error.problems.map((p) => ({ ...p, path: under + p.path })),
    );
  }
}

/** Record images (profile photos, uploads) a worker has been sent lately, by content. */
const recordImages = new Map<string, PreparedImage>();
const RECORD_IMAGES = 32;

/**
 * The image sent, as the object this worker already has for the same content: its screen-size and
 * CMYK copies are kept per object (see screenImage, cmykImage), so a rep's photo is scaled down and
 * converted once per worker, not on every preview and render.
 */
function known(sent: PreparedImage): PreparedImage {
  const image = recordImages.get(sent.sha256) ?? asBuffers(sent);
  recordImages.delete(sent.sha256); // re-inserted: most recently used last
  recordImages.set(sent.sha256, image);
  if (recordImages.size > RECORD_IMAGES) recordImages.delete(recordImages.keys().next().value!);
  return image;
}

function refuse(path: string, message: string): never {
  throw new PlatenError('invalid_request', [{ path, rule: 'not_found', message }]);
}
