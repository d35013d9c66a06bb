import { Writable } from 'node:stream';
import type { Problem } from './errors.js';
import type { DrawnImage } from './elements/kind.js';
import { kindOf } from './elements/registry.js';
import { fitPiece, fitPieceOrThrow } from './layout/piece.js';
import { mergeRecord } from './merge/merge.js';
import { PlatenError } from './errors.js';
import type { DrawItem } from './model/kinds.js';
import type { FittedPiece, Piece, RecordImages } from './model/piece.js';
import { isPdfA } from './model/manifest.js';
import type { PieceIdentity } from './model/record.js';
import type { CompiledTemplate } from './model/template.js';
import { type DocumentOptions, PieceDocument } from './render/document.js';
import { rasterizePage } from './render/raster.js';
import { cmykImage } from './assets/cmyk.js';
import { opaqueImage, type PreparedImage, screenImage } from './assets/images.js';

/**
 * The per-record pipeline, validate → merge → fit, and the draw step, as the faces (CLI, API, jobs)
 * call them. Faces never reach into a step's internals.
 */

/**
 * Validates, merges and fits one record; throws PlatenError naming every problem. `identity` is the
 * piece's tracked URL and code; left out, the sample's are printed.
 */
export function preparePiece(
  compiled: CompiledTemplate,
  record: unknown,
  images: RecordImages,
  identity?: PieceIdentity,
): FittedPiece {
  return fitPieceOrThrow(mergeRecord(compiled, record, images, identity));
}

/**
 * Validates, merges and fits one record, drawing nothing: the fitted piece and what fitting found (text
 * that overflows). Throws PlatenError when the record is invalid.
 */
export function fitRecord(
  compiled: CompiledTemplate,
  record: unknown,
  images: RecordImages,
  identity?: PieceIdentity,
): { fitted: FittedPiece; problems: Problem[] } {
  return fitPiece(mergeRecord(compiled, record, images, identity));
}

/** Every problem a record has, from validation through fitting; empty when it would render. */
export function checkRecord(compiled: CompiledTemplate, record: unknown, images: RecordImages): Problem[] {
  try {
    return fitRecord(compiled, record, images).problems;
  } catch (error) {
    if (error instanceof PlatenError) return error.problems;
    throw error;
  }
}

/** Writes pieces into one PDF on `out`, streaming; resolves when the last byte is written. */
export async function writePieces(
  compiled: CompiledTemplate,
  pieces: Iterable<FittedPiece> | AsyncIterable<FittedPiece>,
  out: Writable,
  { single = false, ...options }: { single?: boolean } & DocumentOptions = {},
): Promise<{ pages: number }> {
  let document: PieceDocument | null = null;
  const cmyk = compiled.print.colorSpace === 'cmyk';
  const standard = compiled.manifest.output?.standard;
  // Printer's marks are in the registration colour, every ink at once, which an RGB document's sRGB
  // output intent cannot describe: a proof with marks of an RGB template is no PDF/A (compile refuses
  // a template that asks for both; `--marks` makes such a proof).
  const rgbMarks = compiled.print.marks && !cmyk;
  const pdfa = single && !options.impose && !rgbMarks && isPdfA(standard) ? standard : undefined;
  for await (const piece of pieces) {
    if (cmyk) await convertImages(piece, options.imageVariants, compiled.print.standard === 'PDF/X-1a');
    const imageVariants =
      pdfa === 'PDF/A-1b' ? await opaqueImages(piece, cmyk, options.imageVariants) : options.imageVariants;
    document ??= new PieceDocument(
      compiled.page,
      {
        title: compiled.name,
        templateId: compiled.id,
        version: compiled.version,
        ...(single ? { recordHash: piece.recordHash } : {}),
      },
      out,
      {
        print: compiled.print,
        // One piece alone is what a rep emails: tagged for screen readers (PDF/UA-1), and PDF/A when
        // the template asks. Print files stay untagged.
        ...(single && !options.impose
          ? { tagged: { tags: compiled.tags, lang: compiled.manifest.lang }, ...(pdfa ? { pdfa } : {}) }
          : {}),
        ...options,
        ...(imageVariants ? { imageVariants } : {}),
      },
    );
    await document.add(piece);
  }
  if (!document) throw new Error('no pieces to write');
  await document.end();
  return { pages: document.pages };
}

/** The template's sample records, with the package images they name. */
export function samples(
  compiled: CompiledTemplate,
): { name: string; record: unknown; images: RecordImages }[] {
  return compiled.manifest.samples.map((s) => ({ name: s.name, record: s.record, images: compiled.assets }));
}

/** Renders fitted pieces into one PDF in memory: for one rep's brochure, not for mail drops. */
export async function renderToBuffer(
  compiled: CompiledTemplate,
  pieces: FittedPiece[],
  options: DocumentOptions = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await writePieces(compiled, pieces, sink, { single: pieces.length === 1, ...options });
  return Buffer.concat(chunks);
}

/** Every raster image a piece draws, static layers included (see each kind's `images`). */
function imageItems(piece: FittedPiece): DrawnImage[] {
  const found: DrawnImage[] = [];
  const visit = (items: DrawItem[]): void => {
    for (const item of items) {
      if (item.kind === 'static') visit(item.items);
      else found.push(...(kindOf(item.kind).images?.(item) ?? []));
    }
  };
  for (const page of piece.pages) visit(page);
  return found;
}

/**
 * One page of a piece as a screen shows it: fitted (text that overflows is drawn past its box, so the
 * problem shows), drawn with screen-size images, cropped to `view.crop`, rasterized at `view.scale`.
 */
export async function previewPage(
  compiled: CompiledTemplate,
  piece: Piece,
  view: { page: number; scale: number; crop: 'trim' | 'bleed' },
): Promise<{ png: Buffer; fitted: FittedPiece; problems: Problem[] }> {
  const { fitted, problems } = fitPiece(piece);
  const pdf = await renderToBuffer(compiled, [fitted], {
    imageVariants: await screenImages(fitted),
    crop: view.crop,
  });
  return { png: await rasterizePage(pdf, view.page, view.scale), fitted, problems };
}

/** Screen-resolution stand-ins for every image a piece draws, static layers included: for previews. */
export async function screenImages(piece: FittedPiece): Promise<Map<PreparedImage, PreparedImage>> {
  const variants = new Map<PreparedImage, PreparedImage>();
  for (const { image } of imageItems(piece))
    if (!variants.has(image)) variants.set(image, await screenImage(image));
  return variants;
}

/**
 * A CMYK document's images as CMYK copies, converted before the (synchronous) draw step needs them:
 * template art was converted at compile time, a record's photo is converted once when first drawn.
 * Screen previews keep their small RGB stand-ins.
 */
async function convertImages(
  piece: FittedPiece,
  screen: ReadonlyMap<PreparedImage, PreparedImage> | undefined,
  opaque: boolean,
): Promise<void> {
  for (const item of imageItems(piece))
    if (!item.keepRgb && !screen?.has(item.image)) await cmykImage(item.image, opaque);
}

/**
 * A PDF/A-1 document's images flattened onto white, as it has no transparency (in CMYK for a CMYK
 * document), in place of the images a piece draws or their screen stand-ins.
 */
async function opaqueImages(
  piece: FittedPiece,
  cmyk: boolean,
  screen: ReadonlyMap<PreparedImage, PreparedImage> | undefined,
): Promise<Map<PreparedImage, PreparedImage>> {
  const variants = new Map(screen);
  for (const { image, keepRgb } of imageItems(piece)) {
    const opaque = await opaqueImage(screen?.get(image) ?? image);
    variants.set(image, cmyk && !keepRgb && !screen?.has(image) ? await cmykImage(opaque) : opaque);
  }
  return variants;
}
