/**
 * Self-test of the PDF test-support helpers, on small PDFs built here with pdfkit (and one written by
 * hand for page-tree inheritance, which pdfkit never produces).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  countObjects,
  isFormXObject,
  isImageXObject,
  pageBoxes,
  pageXObjects,
  parsePdffonts,
  pdfFonts,
  pdfInfo,
  pdfObjects,
  pdfText,
  qpdfCheck,
} from './pdf.js';
import { compareWithBaseline, rasterizePage } from './raster.js';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const PAGE_SIZE: [number, number] = [300, 200];
const RED_SQUARE = { x: 20, y: 60, size: 40 };

/** pdfkit 0.20 has openImage (embed once, place many times) but @types/pdfkit does not declare it. */
interface OpenedImage {
  readonly width: number;
}
type PdfKitDoc = PDFKit.PDFDocument & {
  openImage(src: Buffer): OpenedImage;
  image(src: OpenedImage, x: number, y: number, options?: PDFKit.Mixins.ImageOption): PDFKit.PDFDocument;
};

async function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.end();
  return done;
}

/** Two pages; one opaque RGB image object (no alpha, so no SMask object) placed on both. */
async function makeSamplePdf(): Promise<Buffer> {
  const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  const doc = new PDFDocument({ size: PAGE_SIZE, margin: 10 }) as PdfKitDoc;
  Object.assign(doc.info, { Title: 'Sample proof', Subject: 'Self-test', Keywords: 'a, b', JobId: 'job-42' });
  doc.registerFont('DejaVu', FONT);
  doc.font('DejaVu').fontSize(12);

  doc.text('Dear Chloé,', 20, 20);
  doc.text('Smith & Sons <Ltd>', 20, 36);
  // pdfkit has no API for these boxes; the page dictionary is written as-is when the page ends.
  Object.assign(doc.page.dictionary.data, { TrimBox: [10, 10, 290, 190], BleedBox: [5, 5, 295, 195] });
  const image = doc.openImage(red);
  doc.image(image, RED_SQUARE.x, RED_SQUARE.y, { width: RED_SQUARE.size });

  doc.addPage({ size: PAGE_SIZE, margin: 10 });
  doc.text('Second   page', 20, 20);
  doc.image(image, RED_SQUARE.x, RED_SQUARE.y, { width: RED_SQUARE.size });
  return collect(doc);
}

/** Serializes numbered objects (1..n) with a correct xref table; object 1 must be the catalog. */
function buildRawPdf(objects: string[]): Buffer {
  let body = '%PDF-1.7\n';
  const offsets = objects.map((object, index) => {
    const offset = Buffer.byteLength(body, 'latin1');
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xrefOffset = Buffer.byteLength(body, 'latin1');
  const rows = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${rows}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** Resources (indirect, holding an indirect /XObject dict) and MediaBox live on the Pages node only. */
function makeInheritingPdf(): Buffer {
  const form =
    '<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 8 >>\nstream\n0 0 m\nS\n\nendstream';
  return buildRawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 200 100] /Resources 5 0 R >>',
    '<< /Type /Page /Parent 2 0 R /Contents 6 0 R /CropBox [190 90 10 10] >>',
    form,
    '<< /XObject 7 0 R >>',
    '<< /Length 8 >>\nstream\n/Fm1 Do\n\nendstream',
    '<< /Fm1 4 0 R >>',
  ]);
}

let sample: Buffer;
let tmp: string;
let samplePath: string;

beforeAll(async () => {
  sample = await makeSamplePdf();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-support-test-'));
  samplePath = path.join(tmp, 'sample.pdf');
  await writeFile(samplePath, sample);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pdfText', () => {
  it('extracts each page with whitespace collapsed and entities left alone', async () => {
    const pages = await pdfText(sample);
    expect(pages).toHaveLength(2);
    expect(pages[0]).toContain('Smith & Sons <Ltd>');
    expect(pages[0]).toContain('Chloé');
    // Two separately placed lines read as one space-separated string.
    expect(pages[0]).toBe('Dear Chloé, Smith & Sons <Ltd>');
    expect(pages[1]).toBe('Second page');
  });

  it('reads a path the same as bytes and leaves the caller’s Buffer intact', async () => {
    const before = Buffer.from(sample);
    expect(await pdfText(samplePath)).toEqual(await pdfText(sample));
    expect(sample.equals(before)).toBe(true);
  });
});

describe('pdfInfo', () => {
  it('reports page count and standard and custom Info entries', async () => {
    const info = await pdfInfo(sample);
    expect(info.pageCount).toBe(2);
    expect(info.pdfVersion).toMatch(/^1\.\d$/);
    expect(info.info).toMatchObject({
      Title: 'Sample proof',
      Subject: 'Self-test',
      Keywords: 'a, b',
      Producer: 'PDFKit',
    });
    expect(info.info.CreationDate).toMatch(/^D:\d{14}/);
    expect(info.custom).toEqual({ JobId: 'job-42' });
  });
});

describe('pdfFonts', () => {
  it('lists the registered TrueType font as embedded, subset and with ToUnicode', async () => {
    const fonts = await pdfFonts(sample);
    expect(fonts).toHaveLength(1);
    expect(fonts[0]).toMatchObject({
      type: 'CID TrueType',
      encoding: 'Identity-H',
      embedded: true,
      subset: true,
      unicode: true,
    });
    expect(fonts[0]?.name).toMatch(/^[A-Z]{6}\+DejaVuSans$/);
    expect(fonts[0]?.ref).toMatch(/^\d+ 0 R$/);
  });

  it('parses rows whose font name overflows its column and multi-word types', () => {
    const output = [
      'name                                 type              encoding         emb sub uni object ID',
      '------------------------------------ ----------------- ---------------- --- --- --- ---------',
      'ABCDEF+AVeryLongFontNameThatOverflowsTheColumn-BoldItalic Type 1C (OT)      Custom           yes yes no      12  0',
      '[none]                               Type 3            Custom           yes no  no       7  0',
      'Helvetica                            Type 1            WinAnsi          no  no  no      30  0',
      '',
    ].join('\n');
    expect(parsePdffonts(output)).toEqual([
      {
        name: 'ABCDEF+AVeryLongFontNameThatOverflowsTheColumn-BoldItalic',
        type: 'Type 1C (OT)',
        encoding: 'Custom',
        embedded: true,
        subset: true,
        unicode: false,
        ref: '12 0 R',
      },
      {
        name: '[none]',
        type: 'Type 3',
        encoding: 'Custom',
        embedded: true,
        subset: false,
        unicode: false,
        ref: '7 0 R',
      },
      {
        name: 'Helvetica',
        type: 'Type 1',
        encoding: 'WinAnsi',
        embedded: false,
        subset: false,
        unicode: false,
        ref: '30 0 R',
      },
    ]);
  });
});

describe('pageBoxes', () => {
  it('reads declared boxes and defaults the rest to the CropBox', async () => {
    const boxes = await pageBoxes(sample);
    const full = [0, 0, 300, 200];
    expect(boxes).toEqual([
      { media: full, crop: full, bleed: [5, 5, 295, 195], trim: [10, 10, 290, 190], art: full },
      { media: full, crop: full, bleed: full, trim: full, art: full },
    ]);
  });

  it('agrees with pdfinfo -box', async () => {
    const { stdout } = await promisify(execFile)('pdfinfo', ['-box', '-f', '1', '-l', '1', samplePath]);
    expect(stdout).toMatch(/^Page +1 TrimBox: +10\.00 +10\.00 +290\.00 +190\.00$/m);
    expect(stdout).toMatch(/^Page +1 BleedBox: +5\.00 +5\.00 +295\.00 +195\.00$/m);
  });

  it('inherits MediaBox from the page tree and normalizes corner order', async () => {
    const [page] = await pageBoxes(makeInheritingPdf());
    expect(page).toEqual({
      media: [0, 0, 200, 100],
      crop: [10, 10, 190, 90],
      bleed: [10, 10, 190, 90],
      trim: [10, 10, 190, 90],
      art: [10, 10, 190, 90],
    });
  });
});

describe('qpdfCheck', () => {
  it('passes a good file', async () => {
    const result = await qpdfCheck(sample);
    expect(result).toMatchObject({ ok: true, exitCode: 0 });
    expect(result.output).toContain('No syntax or stream encoding errors found');
  });

  it('fails a truncated file', async () => {
    const result = await qpdfCheck(sample.subarray(0, Math.floor(sample.length / 2)));
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(2);
  });

  it('fails a file qpdf can only read with warnings (exit 3)', async () => {
    const text = sample.toString('latin1');
    const broken = Buffer.from(text.replace(/startxref\n\d+/, 'startxref\n12'), 'latin1');
    const result = await qpdfCheck(broken);
    expect(result).toMatchObject({ ok: false, exitCode: 3 });
    expect(result.output).toContain('xref not found');
  });
});

describe('pdfObjects', () => {
  it('counts one image object when the same image is placed on both pages', async () => {
    const objs = await pdfObjects(sample);
    expect(objs.pageRefs).toHaveLength(2);
    expect(objs.warnings).toEqual([]);
    expect(countObjects(objs, isImageXObject)).toBe(1);
    expect(countObjects(objs, isFormXObject)).toBe(0);

    const [first, second] = pageXObjects(objs);
    expect(Object.keys(first ?? {})).toHaveLength(1);
    expect(second).toEqual(first);
    const ref = Object.values(first ?? {})[0] ?? '';
    const image = objs.objects.get(ref);
    expect(image && isImageXObject(image)).toBe(true);
  });

  it('resolves Resources inherited from the page tree through indirect dictionaries', async () => {
    const objs = await pdfObjects(makeInheritingPdf());
    expect(pageXObjects(objs)).toEqual([{ Fm1: '4 0 R' }]);
    expect(countObjects(objs, isFormXObject)).toBe(1);
    expect(countObjects(objs, isImageXObject)).toBe(0);
  });
});

/** Raw RGBA of one pixel of a PNG. */
async function pixelAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * 4;
  return [...data.subarray(offset, offset + 4)];
}

/** Number of pixels darker than mid-grey inside a rectangle. */
async function darkPixels(
  png: Buffer,
  left: number,
  top: number,
  width: number,
  height: number,
): Promise<number> {
  const { data } = await sharp(png)
    .extract({ left, top, width, height })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data.filter((value) => value < 128).length;
}

describe('rasterizePage', () => {
  it('renders a PNG of the page size times the scale', async () => {
    const png = await rasterizePage(sample, 1, 2);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const { width, height } = await sharp(png).metadata();
    expect([width, height]).toEqual([600, 400]);
  });

  it('draws the image and the embedded-font text', async () => {
    const png = await rasterizePage(samplePath, 1, 1);
    const centre = RED_SQUARE.size / 2;
    expect(await pixelAt(png, RED_SQUARE.x + centre, RED_SQUARE.y + centre)).toEqual([255, 0, 0, 255]);
    expect(await pixelAt(png, 250, 150)).toEqual([255, 255, 255, 255]);
    // Glyphs of the first text line ("Dear Chloé,": 12pt at y=20) must have been painted.
    expect(await darkPixels(png, 20, 20, 80, 14)).toBeGreaterThan(50);
  });

  it('rejects a page number that does not exist', async () => {
    await expect(rasterizePage(sample, 3, 1)).rejects.toThrow(/page 3 does not exist/);
  });
});

describe('compareWithBaseline', () => {
  const strict = { maxDiffRatio: 0, channelTolerance: 0 };
  let dir: string;
  let outputDir: string;
  let page1: Buffer;
  let page2: Buffer;

  beforeAll(async () => {
    [page1, page2] = await Promise.all([rasterizePage(sample, 1, 1), rasterizePage(sample, 2, 1)]);
  });

  beforeEach(async () => {
    // The runner's own CI variable must not decide which branch these tests exercise.
    vi.stubEnv('CI', '');
    vi.stubEnv('UPDATE_BASELINES', '');
    dir = await mkdtemp(path.join(tmp, 'baselines-'));
    outputDir = path.join(dir, 'output');
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes a missing baseline and passes', async () => {
    const baseline = path.join(dir, 'nested', 'page1.png');
    const result = await compareWithBaseline(page1, baseline, { ...strict, outputDir });
    expect(result).toMatchObject({ pass: true, diffRatio: 0 });
    expect(result.message).toMatch(/written/);
    expect((await readFile(baseline)).equals(page1)).toBe(true);
  });

  it('fails on a missing baseline when CI is set, without writing it', async () => {
    vi.stubEnv('CI', 'true');
    const baseline = path.join(dir, 'page1.png');
    const result = await compareWithBaseline(page1, baseline, { ...strict, outputDir });
    expect(result.pass).toBe(false);
    expect(result.message).toMatch(/missing and CI is set/);
    await expect(stat(baseline)).rejects.toThrow();
  });

  it('passes an identical image with a zero diff ratio', async () => {
    const baseline = path.join(dir, 'page1.png');
    await writeFile(baseline, page1);
    expect(await compareWithBaseline(page1, baseline, { ...strict, outputDir })).toMatchObject({
      pass: true,
      diffRatio: 0,
    });
  });

  it('fails a visibly different image and writes actual and diff images', async () => {
    const baseline = path.join(dir, 'page1.png');
    await writeFile(baseline, page1);
    const result = await compareWithBaseline(page2, baseline, {
      maxDiffRatio: 0.001,
      channelTolerance: 16,
      outputDir,
    });
    expect(result.pass).toBe(false);
    expect(result.diffRatio).toBeGreaterThan(0.001);
    expect(result.diffRatio).toBeLessThan(0.5);
    const actualPath = path.join(outputDir, 'page1.actual.png');
    const diffPath = path.join(outputDir, 'page1.diff.png');
    expect(result.message).toContain(actualPath);
    expect(result.message).toContain(diffPath);
    expect((await readFile(actualPath)).equals(page2)).toBe(true);
    expect((await sharp(diffPath).metadata()).width).toBe(300);

    // The same difference passes once the threshold allows it.
    const lenient = await compareWithBaseline(page2, baseline, {
      maxDiffRatio: 0.5,
      channelTolerance: 16,
      outputDir,
    });
    expect(lenient).toMatchObject({ pass: true, diffRatio: result.diffRatio });
  });

  it('applies channelTolerance per channel', async () => {
    const baseline = path.join(dir, 'page1.png');
    await writeFile(baseline, page1);
    // Darken every channel by 3 (white stays clearly inside the 0..255 range after the shift).
    const shifted = await sharp(page1).linear(1, -3).png().toBuffer();
    expect(
      (await compareWithBaseline(shifted, baseline, { maxDiffRatio: 0, channelTolerance: 2, outputDir }))
        .pass,
    ).toBe(false);
    expect(
      (await compareWithBaseline(shifted, baseline, { maxDiffRatio: 0, channelTolerance: 3, outputDir }))
        .pass,
    ).toBe(true);
  });

  it('fails on a size mismatch', async () => {
    const baseline = path.join(dir, 'page1.png');
    await writeFile(baseline, await rasterizePage(sample, 1, 2));
    const result = await compareWithBaseline(page1, baseline, { ...strict, outputDir });
    expect(result).toMatchObject({ pass: false, diffRatio: 1 });
    expect(result.message).toMatch(/Size mismatch.*300x200.*600x400/);
  });

  it('rewrites an existing baseline with UPDATE_BASELINES=1, but not in CI', async () => {
    const baseline = path.join(dir, 'page1.png');
    await writeFile(baseline, page1);

    vi.stubEnv('CI', 'true');
    vi.stubEnv('UPDATE_BASELINES', '1');
    const inCi = await compareWithBaseline(page2, baseline, { ...strict, outputDir });
    expect(inCi.pass).toBe(false);
    expect(inCi.message).toMatch(/UPDATE_BASELINES ignored/);
    expect((await readFile(baseline)).equals(page1)).toBe(true);

    vi.stubEnv('CI', '');
    const local = await compareWithBaseline(page2, baseline, { ...strict, outputDir });
    expect(local).toMatchObject({ pass: true, diffRatio: 0 });
    expect((await readFile(baseline)).equals(page2)).toBe(true);
  });

  it('rejects a percentage passed as maxDiffRatio', async () => {
    await expect(
      compareWithBaseline(page1, path.join(dir, 'x.png'), {
        maxDiffRatio: 5,
        channelTolerance: 0,
        outputDir,
      }),
    ).rejects.toThrow(RangeError);
  });
});
