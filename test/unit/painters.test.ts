/**
 * What each element kind writes into a page's content stream, drawn through the real painter (the
 * draw step over pdfkit) and read back from the PDF, as pdfkit's own tests check its operators.
 * (An address block draws as text: it has no painter of its own.)
 */
import { Writable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadColorTable } from '../../src/assets/cmyk.js';
import { finishImage } from '../../src/assets/images.js';
import { imbBars } from '../../src/elements/imb/bars.js';
import type { ElementItem } from '../../src/model/kinds.js';
import type { Color } from '../../src/model/color.js';
import type { FontFamily } from '../../src/model/text.js';
import { PdfFile } from '../../src/pdf/reader.js';
import { refOf, refsIn } from '../../src/pdf/syntax.js';
import { PieceDocument } from '../../src/render/document.js';
import { fitText } from '../../src/text/fit.js';
import { loadFamilies } from '../support/fonts.js';

const PAGE = { trimWidth: 200, trimHeight: 100, bleed: 0 };
const RED: Color = { space: 'rgb', values: [1, 0, 0] };
const BLUE: Color = { space: 'cmyk', values: [1, 0.5, 0, 0] };
const BOX = { x: 10, y: 20, w: 60, h: 30 };

/** Draws items on one page and returns the page's content stream, inflated. */
async function contentOf(...items: ElementItem[]): Promise<string> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const document = new PieceDocument(PAGE, { title: 'painters', templateId: 't', version: 1 }, out);
  await document.add({ templateId: 't', version: 1, recordHash: '0', pages: [items], report: [] });
  await document.end();
  const file = new PdfFile(Buffer.concat(chunks));
  const catalog = file.dict(refOf(file.trailer.get('Root')));
  const [page] = refsIn(file.dict(refOf(catalog.get('Pages'))).get('Kids'));
  const contents = refOf(file.dict(page!).get('Contents'));
  return file.decoded(file.objects.get(contents)!).toString('latin1');
}

/** The operators after the page's own set-up (pdfkit's flip to y-down). */
function drawn(content: string): string {
  return content.replace(/^1 0 0 -1 0 100 cm\n/, '').trimEnd();
}

describe('painters', () => {
  it('rect: colours, stroke width, the path and the paint operator its colours call for', async () => {
    const item: ElementItem = {
      kind: 'rect',
      name: 'r',
      box: BOX,
      fill: RED,
      stroke: BLUE,
      strokeWidth: 2,
      radius: 0,
    };
    expect(drawn(await contentOf(item))).toBe('q\n1 0 0 rg\n1 0.5 0 0 K\n2 w\n10 20 60 30 re\nB\nQ');
  });

  it('rect with a radius: rounded corners as curves, filled only', async () => {
    const item: ElementItem = { kind: 'rect', name: 'r', box: BOX, fill: RED, strokeWidth: 1, radius: 5 };
    const ops = drawn(await contentOf(item)).split('\n');
    expect(ops.slice(0, 2)).toEqual(['q', '1 0 0 rg']);
    expect(ops.filter((op) => op.endsWith(' c'))).toHaveLength(4);
    expect(ops.slice(-2)).toEqual(['f', 'Q']);
  });

  it('ellipse: four Bézier curves round the box, stroked only', async () => {
    const item: ElementItem = {
      kind: 'ellipse',
      name: 'e',
      box: BOX,
      stroke: RED,
      strokeWidth: 1,
      radius: 0,
    };
    const ops = drawn(await contentOf(item)).split('\n');
    expect(ops.slice(0, 3)).toEqual(['q', '1 0 0 RG', '1 w']);
    expect(ops[3]).toBe('10 35 m');
    expect(ops.filter((op) => op.endsWith(' c'))).toHaveLength(4);
    expect(ops.slice(-2)).toEqual(['S', 'Q']);
  });

  it('line: from the top-left corner to the bottom-right one, always stroked', async () => {
    const item: ElementItem = {
      kind: 'line',
      name: 'l',
      box: BOX,
      stroke: BLUE,
      strokeWidth: 0.5,
      radius: 0,
    };
    expect(drawn(await contentOf(item))).toBe('q\n1 0.5 0 0 K\n0.5 w\n10 20 m\n70 50 l\nS\nQ');
  });

  it('image: placed by one cm and a Do, clipped to its box when it covers it', async () => {
    const image = finishImage({
      width: 2,
      height: 1,
      colorSpace: 'DeviceRGB',
      filter: 'FlateDecode',
      data: deflateSync(Buffer.from([255, 0, 0, 0, 0, 255])),
    });
    const name = `Im${image.sha256.slice(0, 12)}`;
    const contain: ElementItem = { kind: 'image', name: 'i', box: BOX, fit: 'contain', image };
    expect(drawn(await contentOf(contain))).toBe(`q\n60 0 0 -30 10 50 cm\n/${name} Do\nQ`);
    const cover: ElementItem = { kind: 'image', name: 'i', box: { ...BOX, h: 60 }, fit: 'cover', image };
    expect(drawn(await contentOf(cover))).toBe(
      `q\n10 20 60 60 re W n\n120 0 0 -60 -20 80 cm\n/${name} Do\nQ`,
    );
  });

  it('qr: the dark modules as filled runs inside the quiet zone', async () => {
    const item: ElementItem = {
      kind: 'qr',
      name: 'q',
      box: { x: 0, y: 0, w: 29, h: 29 },
      content: 'A',
      color: RED,
      errorCorrection: 'L',
    };
    const ops = drawn(await contentOf(item)).split('\n');
    expect(ops.slice(0, 2)).toEqual(['q', '1 0 0 rg']);
    // A version 1 code is 21 modules and 4 of quiet zone each side: one module is 1 pt here.
    expect(ops[2]).toBe('4 4 7 1 re');
    expect(ops.slice(2, -2).every((op) => /^\d+ \d+ \d+ 1 re$/.test(op))).toBe(true);
    expect(ops.slice(-2)).toEqual(['f', 'Q']);
  });

  it('imb: 65 bars at the USPS-B-3200 pitch, filled in one go', async () => {
    const result = imbBars('00 270 103502 000000001', '');
    if (!('bars' in result)) throw new Error(result.problem);
    const item: ElementItem = {
      kind: 'imb',
      name: 'b',
      box: { x: 0, y: 0, w: 211, h: 11 },
      bars: result.bars,
      color: BLUE,
    };
    const ops = drawn(await contentOf(item)).split('\n');
    expect(ops.slice(0, 2)).toEqual(['q', '1 0.5 0 0 k']);
    const bars = ops.slice(2, -2);
    expect(bars).toHaveLength(65);
    expect(bars[0]).toMatch(/^0 [\d.]+ 1\.44 [\d.]+ re$/);
    expect(bars[1]).toMatch(/^3\.273 [\d.]+ 1\.44 [\d.]+ re$/);
    expect(ops.slice(-2)).toEqual(['f', 'Q']);
  });

  it('svg: flat art replayed as its own operators', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#ff0000"/></svg>';
    const ops = drawn(await contentOf({ kind: 'svg', name: 's', box: { x: 0, y: 0, w: 10, h: 10 }, svg }));
    expect(ops).toMatch(/\/DeviceRGB cs\s+1 0 0 scn/);
    expect(ops).toMatch(/0 0 m\s+10 0 l\s+10 10 l\s+0 10 l\s+h\s+f/);
    await loadColorTable();
    const cmyk = drawn(
      await contentOf({ kind: 'svg', name: 's', box: { x: 0, y: 0, w: 10, h: 10 }, svg, cmyk: true }),
    );
    expect(cmyk).not.toContain('DeviceRGB');
    expect(cmyk).toMatch(/[\d.]+ [\d.]+ [\d.]+ [\d.]+ k/);
  });

  describe('text', () => {
    let body: FontFamily;
    beforeAll(async () => {
      ({ body } = await loadFamilies());
    });

    it('one text object: colour, font and size, then each line placed by Tm and shown by TJ', async () => {
      const spec = {
        width: 180,
        height: 40,
        size: 10,
        lineHeight: 1.2,
        align: 'left',
        valign: 'top',
        fonts: [body],
      } as const;
      const fit = fitText([{ text: 'Hello\nworld', bold: false, italic: false }], { ...spec, fonts: [body] });
      const item: ElementItem = {
        kind: 'text',
        name: 't',
        box: BOX,
        color: RED,
        size: fit.size,
        lines: fit.lines,
      };
      const ops = drawn(await contentOf(item)).split('\n');
      expect(ops[0]).toBe('BT');
      expect(ops[1]).toBe('1 0 0 rg');
      expect(ops[2]).toMatch(/^\/F\d+ 10 Tf$/);
      const placed = ops.filter((op) => op.endsWith(' Tm'));
      expect(placed).toEqual([
        `1 0 0 -1 10 ${Number((20 + fit.lines[0]!.baseline).toFixed(3))} Tm`,
        `1 0 0 -1 10 ${Number((20 + fit.lines[1]!.baseline).toFixed(3))} Tm`,
      ]);
      expect(ops.filter((op) => op.endsWith(' TJ'))).toHaveLength(2);
      expect(ops.at(-1)).toBe('ET');
    });
  });
});
