/**
 * Print-ready output: marks outside the bleed with the media grown for them, and CMYK documents
 * (colours, images, SVG art converted; spot inks as Separation colour spaces; an output intent with
 * the shipped profile). Checked with qpdf, poppler's pdfinfo and ghostscript's inkcov and tiffsep.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputProfile } from '../../src/assets/cmyk.js';
import { deref, isImageXObject, pdfInfo, pdfObjects, qpdfCheck, type PdfDict } from '../support/pdf.js';
import { withTempDir } from '../support/files.js';
import { templateCopy } from '../support/packages.js';
import {
  cmykPostcardWithRgbSquare,
  inkCoverage,
  renderSample,
  inksIn,
  separations,
  uncompressed,
} from '../support/print.js';
import { runCli, TEMPLATES_DIR } from '../support/repo.js';

const run = promisify(execFile);

/** `pdfinfo -box` of page 1: box name → [x0, y0, x1, y1]. */
async function pdfinfoBoxes(file: string): Promise<Record<string, number[]>> {
  const { stdout } = await run('pdfinfo', ['-box', file]);
  const boxes: Record<string, number[]> = {};
  for (const match of stdout.matchAll(/^(\w+)Box:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/gm))
    boxes[match[1]!] = match.slice(2, 6).map(Number);
  return boxes;
}

/** Ghostscript's bounding box of everything painted on page 1. */
async function paintedBox(file: string): Promise<number[]> {
  const { stderr } = await run('gs', ['-q', '-sDEVICE=bbox', '-dLastPage=1', '-o', '/dev/null', file]);
  return /%%HiResBoundingBox: (.+)/.exec(stderr)![1]!.trim().split(/\s+/).map(Number);
}

describe('crop and bleed marks', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-marks-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('are off by default: the media is the trim plus the bleed', async () => {
    const out = path.join(tmp, 'plain.pdf');
    const result = await runCli([
      'render',
      path.join(TEMPLATES_DIR, 'postcard-6x4'),
      '--sample',
      '0',
      '--out',
      out,
    ]);
    expect(result.code).toBe(0);
    const boxes = await pdfinfoBoxes(out);
    expect(boxes.Media).toEqual([0, 0, 450, 306]);
    expect(boxes.Trim).toEqual([9, 9, 441, 297]);
    expect(await uncompressed(await readFile(out))).not.toMatch(/\/Marks Do/);
  });

  it('with --marks grow the media by 30 pt a side and shift the trim and bleed boxes with it', async () => {
    const out = path.join(tmp, 'marks.pdf');
    const result = await runCli([
      'render',
      path.join(TEMPLATES_DIR, 'postcard-6x4'),
      '--sample',
      '0',
      '--marks',
      '--out',
      out,
    ]);
    expect(result.code).toBe(0);
    expect((await qpdfCheck(out)).ok).toBe(true);
    const boxes = await pdfinfoBoxes(out);
    expect(boxes.Media).toEqual([0, 0, 510, 366]);
    expect(boxes.Bleed).toEqual([30, 30, 480, 336]);
    expect(boxes.Trim).toEqual([39, 39, 471, 327]);
    // Every page places the one marks form, painted in the registration colour (all inks).
    const objs = await pdfObjects(out);
    const text = await uncompressed(await readFile(out));
    expect(text.match(/\/Marks Do/g)).toHaveLength(objs.pageRefs.length);
    expect(text).toMatch(/\/CSAll \[\s*\/Separation\s*\/All\s*\/DeviceCMYK/);
    // Marks are painted outside the bleed box and inside the media.
    const [x0, y0, x1, y1] = await paintedBox(out);
    expect(x0).toBeLessThan(30 - 20);
    expect(y0).toBeLessThan(30 - 20);
    expect(x1).toBeGreaterThan(480 + 20);
    expect(y1).toBeGreaterThan(336 + 20);
    expect(Math.min(x0!, y0!)).toBeGreaterThan(0);
    expect(x1).toBeLessThan(510);
    expect(y1).toBeLessThan(366);
    // Four corners × (crop + bleed) × 2 strokes.
    const marks = /\/CSAll CS 1 SCN\n([\s\S]*?)\nS\nQ/.exec(text)![1]!.split('\n');
    expect(marks).toHaveLength(16);
  });

  it('follow the template default (output.marks) without --marks; without bleed there are crop marks only', async () => {
    const dir = await templateCopy('letter-window', (m) => {
      m.output = { marks: true };
    });
    const pdf = await renderSample(dir);
    const text = await uncompressed(pdf);
    const marks = /\/CSAll CS 1 SCN\n([\s\S]*?)\nS\nQ/.exec(text)![1]!.split('\n');
    expect(marks).toHaveLength(8);
    const file = path.join(tmp, 'letter.pdf');
    await writeFile(file, pdf);
    const boxes = await pdfinfoBoxes(file);
    expect(boxes.Media).toEqual([0, 0, 672, 852]);
    expect(boxes.Trim).toEqual([30, 30, 642, 822]);
    expect(boxes.Bleed).toEqual([30, 30, 642, 822]);
  });
});

/** Regions of the CMYK postcard, in media points (y down). */
const QR_MODULES = { x: 363, y: 201, w: 52, h: 52 };
const IMB_BARS = { x: 193, y: 141, w: 211, h: 10 };
const MESSAGE = { x: 29, y: 107, w: 150, h: 93 };
const LARGE_TEXT = { x: 29, y: 249, w: 150, h: 28 };

/** The plates that carry ink in a region, rounded to the tenth. */
function only(inks: Map<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...inks].filter(([, v]) => v > 0).map(([ink, v]) => [ink, Math.round(v * 10) / 10]),
  );
}

/** The postcard in CMYK with 20 pt text in "ink" on the back; `keepInks`: its palette entry keeps them. */
function withLargeInk(keepInks = false): Promise<string> {
  return templateCopy('postcard-6x4', (m) => {
    m.output = { ...(m.output as object), colorSpace: 'cmyk' };
    const colors = m.colors as Record<string, unknown>;
    if (keepInks) colors.ink = { color: colors.ink, keepInks: true };
    const back = (m.pages as { elements: Record<string, unknown>[] }[])[1]!;
    back.elements.push({
      type: 'text',
      name: 'largeInk',
      x: 20,
      y: 240,
      w: 150,
      h: 28,
      text: 'Harbor',
      size: 20,
      color: 'ink',
    });
  });
}

describe('a CMYK document', () => {
  const SPOT = 'PANTONE 2597 C';
  let pdf: Buffer;
  let text: string;

  beforeAll(async () => {
    const dir = await templateCopy('postcard-6x4', (m) => {
      m.output = { ...(m.output as object), colorSpace: 'cmyk' };
      (m.colors as Record<string, unknown>).violet = { spot: SPOT, cmyk: [85, 100, 0, 0] };
      const pages = m.pages as { elements: Record<string, unknown>[] }[];
      pages[0]!.elements.push({
        type: 'rect',
        name: 'spotTint',
        x: 20,
        y: 20,
        w: 60,
        h: 12,
        fill: { name: 'violet', tint: 40 },
      });
    });
    pdf = await renderSample(dir);
    text = await uncompressed(pdf);
  });

  it('is a valid PDF', async () => {
    expect((await qpdfCheck(pdf)).ok).toBe(true);
  });

  it('has no DeviceRGB anywhere: no RGB operators, colour spaces or images', async () => {
    expect(text).not.toMatch(/DeviceRGB/);
    expect(text).not.toMatch(/\s(rg|RG)\n/);
    const objs = await pdfObjects(pdf);
    const spaces = [...objs.objects.values()]
      .filter(isImageXObject)
      .map((o) => (o.value as PdfDict)['/ColorSpace']);
    // Colour images are CMYK JPEGs (soft masks, if any, are grey).
    expect(spaces).toContain('/DeviceCMYK');
    for (const space of spaces) expect(['/DeviceCMYK', '/DeviceGray']).toContain(space);
    expect(text).toMatch(/\/DeviceCMYK[\s\S]*\/DCTDecode/);
  });

  it('carries a GTS_PDFX output intent with the shipped four-channel profile, and says so in Info', async () => {
    const objs = await pdfObjects(pdf);
    const root = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    const intents = deref(objs, root['/OutputIntents']) as string[];
    expect(intents).toHaveLength(1);
    const intent = deref(objs, intents[0]) as PdfDict;
    expect(intent['/S']).toBe('/GTS_PDFX');
    expect(intent['/OutputConditionIdentifier']).toBe('u:FOGRA39');
    const profileRef = intent['/DestOutputProfile'] as string;
    const profile = objs.objects.get(profileRef)!;
    expect(profile.isStream).toBe(true);
    expect((profile.value as PdfDict)['/N']).toBe(4);
    const { stdout } = await withTempDir('platen-icc-', async (dir) => {
      const file = path.join(dir, 'cmyk.pdf');
      await writeFile(file, pdf);
      return run('qpdf', [`--show-object=${profileRef.split(' ')[0]!}`, '--filtered-stream-data', file], {
        encoding: 'buffer',
        maxBuffer: 8 * 1024 * 1024,
      });
    });
    expect(Buffer.compare(stdout, outputProfile())).toBe(0);
    expect(stdout.subarray(16, 20).toString('latin1')).toBe('CMYK');
    const info = await pdfInfo(pdf);
    expect(info.custom.PlatenColorSpace).toBe('CMYK');
    expect(info.custom.PlatenOutputCondition).toBe('FOGRA39');
  });

  it('writes each spot ink once, as a Separation with its CMYK alternate, used at its tint', async () => {
    expect(text.match(/\/Separation/g)).toHaveLength(1);
    expect(text).toMatch(/\/Separation\s*\/PANTONE#202597#20C\s*\/DeviceCMYK/);
    expect(text).toMatch(/\/CSviolet cs 0\.4 scn/);
    const plates = await separations(pdf);
    expect([...plates.keys()].sort()).toEqual(['Black', 'Cyan', 'Magenta', SPOT, 'Yellow']);
    expect(plates.get(SPOT)).toBeCloseTo(0.4, 1);
  });

  it('puts ink on all four process plates (ghostscript inkcov)', async () => {
    const [front, back] = await inkCoverage(pdf);
    for (const channel of front!) expect(channel).toBeGreaterThan(0.05);
    expect(back![3]).toBeGreaterThan(0);
  });

  it('prints barcodes and small near-black text on black ink alone, larger text in its mix (tiffsep)', async () => {
    // Media points (the trim plus 9 pt of bleed): the QR's modules on the front; on the back the
    // IMb's bars, the 10 pt message in the near-black "ink" (C69 M54 Y34 K91 mixed), and 20 pt of it.
    const [qr] = await inksIn(pdf, 1, [QR_MODULES]);
    expect(only(qr!)).toEqual({ Black: 1 });
    const [bars, message, large] = await inksIn(await renderSample(await withLargeInk()), 2, [
      IMB_BARS,
      MESSAGE,
      LARGE_TEXT,
    ]);
    expect(only(bars!)).toEqual({ Black: 1 });
    expect(only(message!)).toEqual({ Black: 1 });
    expect(large!.get('Cyan')).toBeGreaterThan(0.5);
    expect(large!.get('Black')).toBeGreaterThan(0.8);
  });

  it('keeps the mix of a palette entry that says keepInks, in barcodes and small text too', async () => {
    const [bars, message] = await inksIn(await renderSample(await withLargeInk(true)), 2, [
      IMB_BARS,
      MESSAGE,
    ]);
    for (const inks of [bars!, message!]) {
      expect(inks.get('Cyan')).toBeGreaterThan(0.5);
      expect(inks.get('Black')).toBeGreaterThan(0.8);
    }
  });

  it('keeps an element RGB only where the template says keepRgb', async () => {
    const dir = await cmykPostcardWithRgbSquare();
    const rgb = await uncompressed(await renderSample(dir));
    expect(rgb.match(/1 0 0 rg/g)).toHaveLength(1);
    expect(rgb).not.toMatch(/DeviceRGB/);
  });
});

describe('an RGB document', () => {
  it('has no output intent and no colour space resources', async () => {
    const text = await uncompressed(await renderSample(path.join(TEMPLATES_DIR, 'insurance-brochure')));
    expect(text).not.toMatch(/OutputIntent|Separation|\/ColorSpace <</);
  });
});
