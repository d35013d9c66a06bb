/**
 * Helpers for the print tests: the postcard in CMYK, a sample rendered, the uncompressed text of a
 * PDF (content streams readable), and ghostscript's ink coverage and separations.
 */
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { withTempDir } from './files.js';
import { templateCopy } from './packages.js';

const run = promisify(execFile);

/** A red square, `screenOnly`, that its template keeps RGB (keepRgb). */
export const RGB_SQUARE = {
  type: 'rect',
  name: 'screenOnly',
  x: 20,
  y: 20,
  w: 9,
  h: 9,
  fill: '#FF0000',
  keepRgb: true,
};

/** The postcard in CMYK with the RGB square on its front. */
export function cmykPostcardWithRgbSquare(): Promise<string> {
  return templateCopy('postcard-6x4', (m) => {
    m.output = { ...(m.output as object), colorSpace: 'cmyk' };
    (m.pages as { elements: Record<string, unknown>[] }[])[0]!.elements.push({ ...RGB_SQUARE });
  });
}

/** The PDF rewritten by `qpdf --qdf` (streams uncompressed), as latin1 text to search. */
export function uncompressed(pdf: Uint8Array): Promise<string> {
  return withTempDir('platen-qdf-', async (dir) => {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const { stdout } = await run('qpdf', ['--qdf', '--object-streams=disable', input, '-'], {
      encoding: 'latin1',
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  });
}

/** Ink coverage per page (C, M, Y, K, 0..1) from `gs -sDEVICE=inkcov`. */
export function inkCoverage(pdf: Uint8Array): Promise<number[][]> {
  return withTempDir('platen-inkcov-', async (dir) => {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const { stdout } = await run('gs', ['-q', '-o', '-', '-sDEVICE=inkcov', '-r36', input]);
    return stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).slice(0, 4).map(Number));
  });
}

/**
 * The separations ghostscript's `tiffsep` device makes of page 1, by ink name, each as the largest
 * ink value on the plate (0..1): a plate per process ink, and one per spot ink the page uses.
 */
export async function separations(pdf: Uint8Array): Promise<Map<string, number>> {
  const [plates] = await inksIn(pdf, 1, [null]);
  return plates!;
}

/**
 * The inks tiffsep separates in each region of a page (points, y down from the media's top left, at
 * 72 dpi; null for the whole page): the largest value (0..1) on each plate there.
 */
export function inksIn(
  pdf: Uint8Array,
  page: number,
  regions: ({ x: number; y: number; w: number; h: number } | null)[],
): Promise<Map<string, number>[]> {
  return withTempDir('platen-sep-', async (dir) => {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const args = ['-q', '-sDEVICE=tiffsep', '-r72', `-dFirstPage=${page}`, `-dLastPage=${page}`];
    await run('gs', [...args, '-o', path.join(dir, 'p.tif'), input]);
    const found = regions.map(() => new Map<string, number>());
    for (const file of await readdir(dir)) {
      const ink = /^p\((.+)\)\.tif$/.exec(file)?.[1];
      if (!ink) continue;
      // tiffsep plates are 8-bit grey with 255 for no ink.
      const { data, info } = await sharp(path.join(dir, file)).raw().toBuffer({ resolveWithObject: true });
      regions.forEach((region, i) => {
        const { x, y, w, h } = region ?? { x: 0, y: 0, w: info.width, h: info.height };
        let darkest = 255;
        for (let row = Math.floor(y); row < Math.ceil(y + h); row++)
          for (let col = Math.floor(x); col < Math.ceil(x + w); col++)
            darkest = Math.min(darkest, data[(row * info.width + col) * info.channels]!);
        found[i]!.set(ink, (255 - darkest) / 255);
      });
    }
    return found;
  });
}

/**
 * Whether ghostscript paints anything (darker than near-white) in each region of a page (rectangles in points, y down from the
 * top left, rendered at 72 dpi in grey), after `gs -sDEVICE=pnggray`.
 */
export function inkedRegions(
  pdf: Uint8Array,
  page: number,
  regions: { x: number; y: number; w: number; h: number }[],
): Promise<boolean[]> {
  return withTempDir('platen-gray-', async (dir) => {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const output = path.join(dir, 'page.png');
    await run('gs', [
      '-q',
      '-sDEVICE=pnggray',
      '-r72',
      `-dFirstPage=${page}`,
      `-dLastPage=${page}`,
      '-o',
      output,
      input,
    ]);
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    return regions.map(({ x, y, w, h }) => {
      for (let row = Math.floor(y); row < Math.ceil(y + h); row++)
        for (let col = Math.floor(x); col < Math.ceil(x + w); col++)
          if (data[(row * info.width + col) * info.channels]! < 240) return true;
      return false;
    });
  });
}

/** Compiles a template folder and renders its sample `index` as a one-piece PDF. */
export async function renderSample(dir: string, index = 0): Promise<Buffer> {
  const compiled = await compileTemplate(dir);
  const sample = samples(compiled)[index]!;
  return renderToBuffer(compiled, [preparePiece(compiled, sample.record, sample.images)]);
}
