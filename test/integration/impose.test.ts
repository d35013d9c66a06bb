/**
 * Imposition: the postcard's samples step-and-repeated on an 18 × 12 in sheet, read back from the PDF:
 * sheet size, one sheet per piece page, each piece's cell in row order (backs mirrored for
 * work-and-turn), the sheet's marks, and a sheet too small refused before anything is written.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SheetTooSmallError, sheetLayout } from '../../src/pdf/impose.js';
import { pageBoxes, pdfText, qpdfCheck } from '../support/pdf.js';
import { inkedRegions, uncompressed } from '../support/print.js';
import { runCli, TEMPLATES_DIR } from '../support/repo.js';

const POSTCARD = { trimWidth: 432, trimHeight: 288, bleed: 9 };

describe('sheetLayout', () => {
  it('fits 4 bleed postcards on 18 × 12 in, centred, cells abutting at their bleed', () => {
    const layout = sheetLayout(POSTCARD, { width: 1296, height: 864 });
    expect([layout.across, layout.down, layout.width, layout.height]).toEqual([2, 2, 1296, 864]);
    expect([0, 1, 2, 3].map((i) => layout.origin(i, false))).toEqual([
      [207, 135],
      [657, 135],
      [207, 441],
      [657, 441],
    ]);
    expect(layout.origin(0, true)).toEqual([657, 135]);
  });

  it('turns the sheet when that holds more pieces, else keeps it as given', () => {
    // 8.5 × 5.5 in: one across and three down as given, two by two turned.
    const layout = sheetLayout({ trimWidth: 612, trimHeight: 396, bleed: 0 }, { width: 864, height: 1296 });
    expect([layout.width, layout.height, layout.across, layout.down]).toEqual([1296, 864, 2, 2]);
    // 5.5 × 8.5 in: two by two as given, three by one turned.
    const kept = sheetLayout({ trimWidth: 396, trimHeight: 612, bleed: 0 }, { width: 864, height: 1296 });
    expect([kept.width, kept.height, kept.across, kept.down]).toEqual([864, 1296, 2, 2]);
  });

  it('refuses a sheet that cannot hold one piece and its marks', () => {
    expect(() => sheetLayout(POSTCARD, { width: 450, height: 306 })).toThrow(SheetTooSmallError);
  });
});

describe('platen render --sample all --impose 18x12in', () => {
  let tmp: string;
  let file: string;
  let text: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-impose-'));
    file = path.join(tmp, 'sheets.pdf');
    const args = [
      'render',
      path.join(TEMPLATES_DIR, 'postcard-6x4'),
      '--sample',
      'all',
      '--impose',
      '18x12in',
    ];
    const result = await runCli([...args, '--out', file]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    text = await uncompressed(await readFile(file));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes one 18 × 12 in sheet per postcard side', async () => {
    expect((await qpdfCheck(file)).ok).toBe(true);
    const boxes = await pageBoxes(file);
    expect(boxes.map((b) => b.media)).toEqual([
      [0, 0, 1296, 864],
      [0, 0, 1296, 864],
    ]);
  });

  it('places the three pieces in row order, the backs mirrored', async () => {
    const placements = [...text.matchAll(/1 0 0 1 ([\d.]+) ([\d.]+) cm\n\/P(\d+) Do/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(placements).toEqual([
      [207, 135],
      [657, 135],
      [207, 441],
      [657, 135],
      [207, 135],
      [657, 441],
    ]);
    const [fronts, backs] = await pdfText(file);
    expect(fronts).toMatch(/Chloé[\s\S]*Margaret[\s\S]*Bartholomew/);
    expect(backs).toContain('Chloé Köhler');
  });

  it('gives each sheet the grid’s trim and bleed as its TrimBox and BleedBox', async () => {
    // Trims from 207 to 207 + 450 + 432 across and 135 to 135 + 306 + 288 down; 9 pt of bleed.
    expect((await pageBoxes(file)).map(({ trim, bleed }) => ({ trim, bleed }))).toEqual(
      Array(2).fill({ trim: [207, 135, 1089, 729], bleed: [198, 126, 1098, 738] }),
    );
  });

  it('draws crop marks beside the cells that hold a piece, none beside the empty one', async () => {
    // One form per way a sheet is filled: the front (cells 0, 1, 2) and the mirrored back (1, 0, 3).
    expect(text.match(/\/Marks\d+ Do/g)).toEqual(['/Marks1 Do', '/Marks2 Do']);
    const marks = [...text.matchAll(/\/CSAll CS 1 SCN\n([\s\S]*?)\nS\nQ/g)].map((m) => m[1]!.split('\n'));
    // Of the 16 marks of a full sheet, the two below and the two beside the empty cell are left out.
    expect(marks.map((lines) => lines.length)).toEqual([12, 12]);

    // Ghostscript's rendering: the margins beside each cell, below the grid (y 744 to 762) and to
    // its sides (x 174 to 192 and 1104 to 1122).
    const below = (x: number) => ({ x: x - 3, y: 744, w: 438, h: 18 });
    const beside = (x: number, y: number) => ({ x, y: y - 3, w: 18, h: 294 });
    const pdf = await readFile(file);
    const regions = [below(207), below(657), beside(174, 441), beside(1104, 441), beside(1104, 135)];
    // The front's empty cell is at the bottom right; the back's, mirrored, at the bottom left.
    expect(await inkedRegions(pdf, 1, regions)).toEqual([true, false, true, false, true]);
    expect(await inkedRegions(pdf, 2, regions)).toEqual([false, true, false, true, true]);
  });

  it('refuses a sheet too small as a usage error and writes nothing', async () => {
    const out = path.join(tmp, 'small.pdf');
    const result = await runCli([
      'render',
      path.join(TEMPLATES_DIR, 'postcard-6x4'),
      '--sample',
      'all',
      '--impose',
      '5x4in',
      '--out',
      out,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot hold one 6.25 × 4.25 in piece');
    expect(existsSync(out)).toBe(false);
  });
});
