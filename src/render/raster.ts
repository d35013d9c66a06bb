import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * PDF pages to PNG with pdfjs-dist and @napi-rs/canvas (both permissively licensed; no browser, no
 * AGPL renderer): the previews reps see while they type, and the visual tests.
 */

const requireHere = createRequire(import.meta.url);
const PDFJS_ENTRY = 'pdfjs-dist/legacy/build/pdf.mjs';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

/**
 * pdfjs and the options it is opened with, loaded on the first page drawn: most processes and threads
 * that import the pipeline never draw one (a batch worker, the coordinator of a drop), and pdfjs
 * alone took a worker thread's memory from about 10 MB to 55 MB (docs/perf.md). Nothing of it is
 * looked up before, so a process that draws no page runs without it installed.
 */
let pdfjs: Promise<{ lib: Pdfjs; options: Record<string, unknown> }> | undefined;
function loadPdfjs(): Promise<{ lib: Pdfjs; options: Record<string, unknown> }> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs').then((lib) => {
    // In Node pdfjs runs its worker code on the main thread, loading it by URL: pin the matching build.
    lib.GlobalWorkerOptions.workerSrc = pathToFileURL(
      requireHere.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs'),
    ).href;
    // pdfjs requires its data-directory options to end with a separator.
    const root = dirname(requireHere.resolve('pdfjs-dist/package.json'));
    const dataDir = (name: string) => join(root, name) + sep;
    const options = {
      standardFontDataUrl: dataDir('standard_fonts'),
      cMapUrl: dataDir('cmaps'),
      cMapPacked: true,
      wasmUrl: dataDir('wasm'),
      // Node has no FontFace API: draw glyphs from the embedded font programs, never system fonts.
      disableFontFace: true,
      useSystemFonts: false,
      verbosity: lib.VerbosityLevel.ERRORS,
    };
    return { lib, options };
  });
  return pdfjs;
}

/** Opens a PDF with pdfjs, runs `use`, and always releases the document. */
export async function withPdfDocument<T>(
  pdf: Uint8Array,
  use: (doc: PDFDocumentProxy) => Promise<T>,
): Promise<T> {
  const { lib, options } = await loadPdfjs();
  // pdfjs transfers the buffer it is given (detaching it): hand it a private copy.
  const task = lib.getDocument({ ...options, data: new Uint8Array(pdf) });
  try {
    return await use(await task.promise);
  } finally {
    await task.destroy();
  }
}

interface CanvasModule {
  createCanvas(width: number, height: number): { data(): Buffer; width: number; height: number };
}

/**
 * @napi-rs/canvas as pdfjs itself resolves it: pdfjs builds Path2D objects from its own copy, and a
 * context from another copy rejects them.
 */
let canvasModule: CanvasModule | undefined;
function canvas(): CanvasModule {
  canvasModule ??= createRequire(requireHere.resolve(PDFJS_ENTRY))('@napi-rs/canvas') as CanvasModule;
  return canvasModule;
}

/**
 * Renders page `pageNumber` (from 1) at `scale` (1 = 72 dpi) to PNG bytes.
 */
export async function rasterizePage(pdf: Uint8Array, pageNumber: number, scale: number): Promise<Buffer> {
  return withPdfDocument(pdf, async (doc) => {
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
      throw new RangeError(`page ${pageNumber} does not exist (the document has ${doc.numPages})`);
    }
    const page = await doc.getPage(pageNumber);
    const viewport = page.getViewport({ scale });
    const target = canvas().createCanvas(
      Math.max(1, Math.ceil(viewport.width - 1e-6)),
      Math.max(1, Math.ceil(viewport.height - 1e-6)),
    );
    const task = page.render({ canvas: target as never, viewport, intent: 'print' });
    try {
      await task.promise;
    } finally {
      page.cleanup();
    }
    // sharp's PNG encoder at a low compression level: several times faster than the canvas's own.
    const raw = { width: target.width, height: target.height, channels: 4 } as const;
    // data() is a view of the canvas's own memory, which nothing keeps alive while sharp reads it on a
    // worker thread: copy the pixels, or a garbage collection mid-read crashes the process.
    return sharp(Buffer.from(target.data()), { raw })
      .png({ compressionLevel: 3, adaptiveFiltering: false })
      .toBuffer();
  });
}
