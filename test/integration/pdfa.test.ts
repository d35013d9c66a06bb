/**
 * PDF/A for pieces meant to be emailed or archived (`output.standard`), checked by an independent
 * validator: Apache PDFBox Preflight, which knows PDF/A-1b (ISO 19005-1 level B). A plain piece is
 * not PDF/A, so the check can fail; a PDF/A-2b piece differs from a PDF/A-1b one only where part 2
 * allows more, and PDFBox finds exactly those differences.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { opaqueImage, prepareImage } from '../../src/assets/images.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate, withMarks } from '../../src/template/compile.js';
import { cleanup } from '../support/files.js';
import { templateCopy } from '../support/packages.js';
import { pdfboxPreflight } from '../support/pdfbox.js';
import { uncompressed } from '../support/print.js';

afterAll(() => cleanup());

type Manifest = Record<string, unknown> & { output?: object; pages: { elements: object[] }[] };

/** A piece of a copy of a bundled template, changed by `change`. */
async function piece(name: string, change: (m: Manifest) => void, files: Record<string, Buffer> = {}) {
  const dir = await templateCopy(name, (m) => change(m as Manifest));
  for (const [file, bytes] of Object.entries(files)) await writeFile(path.join(dir, file), bytes);
  const compiled = await compileTemplate(dir);
  const sample = samples(compiled)[0]!;
  return renderToBuffer(compiled, [preparePiece(compiled, sample.record, sample.images)]);
}

const standard = (value: string) => (m: Manifest) => {
  m.output = { ...m.output, standard: value };
};

/** A half-transparent red square, as a PNG with an alpha channel. */
function translucentPng(): Promise<Buffer> {
  return sharp({
    create: { width: 40, height: 40, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } },
  })
    .png()
    .toBuffer();
}

const withBadge = (m: Manifest) => {
  m.pages[0]!.elements.push({
    type: 'image',
    name: 'badge',
    x: 380,
    y: 230,
    w: 30,
    h: 30,
    src: 'badge.png',
    alt: 'A red badge',
  });
};

describe('PDF/A-1b', () => {
  it.each([
    ['multilingual-sample', 'right to left'],
    ['insurance-brochure', 'two pages, photos, QR code, recurring lines'],
  ])('passes PDFBox Preflight: a tagged piece of %s (%s), in RGB', async (name) => {
    const pdf = await piece(name, standard('PDF/A-1b'));
    expect(await pdfboxPreflight(pdf)).toEqual({ valid: true, errors: [] });
    const text = await uncompressed(pdf);
    expect(text).toMatch(/<pdfaid:part>1<\/pdfaid:part>\s*<pdfaid:conformance>B<\/pdfaid:conformance>/);
    expect(text).toMatch(/\/S \/GTS_PDFA1/);
    expect(text.startsWith('%PDF-1.4')).toBe(true);
  });

  it('is what the template asks for: a plain piece of the same template is not PDF/A', async () => {
    const verdict = await pdfboxPreflight(await piece('multilingual-sample', () => undefined));
    expect(verdict.valid).toBe(false);
    expect(verdict.errors.join('\n')).toMatch(/PDF\/A identification schema .* is missing/);
    expect(verdict.errors.join('\n')).toMatch(/CIDSet entry is missing/);
  });

  it('flattens a transparent image onto white: PDF/A-1 has no soft masks', async () => {
    const pdf = await piece(
      'multilingual-sample',
      (m) => {
        standard('PDF/A-1b')(m);
        withBadge(m);
      },
      { 'badge.png': await translucentPng() },
    );
    expect(await pdfboxPreflight(pdf)).toEqual({ valid: true, errors: [] });
    expect(await uncompressed(pdf)).not.toMatch(/\/SMask/);
  });

  it('flattens onto white paper: half-transparent red becomes light red', async () => {
    const image = await prepareImage(await translucentPng());
    expect(image.alpha).toBeDefined();
    const opaque = await opaqueImage(image);
    expect(opaque.alpha).toBeUndefined();
    // Red at alpha 128 of 255 over white: 255 × 127 / 255 of white shows through green and blue.
    expect([...inflateSync(opaque.data).subarray(0, 3)]).toEqual([255, 127, 127]);
  });

  it('keeps a CMYK template in CMYK, its press profile the PDF/A output intent', async () => {
    const pdf = await piece('postcard-6x4', (m) => {
      m.output = { ...m.output, colorSpace: 'cmyk', standard: 'PDF/A-1b' };
    });
    expect(await pdfboxPreflight(pdf)).toEqual({ valid: true, errors: [] });
    const text = await uncompressed(pdf);
    expect([...text.matchAll(/\/S \/GTS_\w+/g)].map((m) => m[0])).toEqual(['/S /GTS_PDFA1']);
    expect(text).toMatch(/\/OutputConditionIdentifier \(FOGRA39\)/);
    expect(text).not.toMatch(/ rg\n| RG\n/);
  });
});

describe('an RGB PDF/A template', () => {
  it('is refused with a spot ink or a CMYK colour, which its sRGB output intent cannot describe', async () => {
    const dir = await templateCopy('multilingual-sample', (m) => {
      const manifest = m as Manifest & { colors: Record<string, unknown> };
      standard('PDF/A-2b')(manifest);
      manifest.colors.gold = { spot: 'PANTONE 871 C', cmyk: [20, 30, 70, 15] };
      manifest.pages[0]!.elements.push(
        { type: 'rect', name: 'goldBar', x: 24, y: 276, w: 100, h: 4, fill: 'gold' },
        { type: 'rect', name: 'inkBar', x: 150, y: 276, w: 100, h: 4, fill: { cmyk: [0, 0, 0, 100] } },
      );
    });
    const error = (await compileTemplate(dir).catch((e: unknown) => e)) as { problems?: object[] };
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'pages[0].elements[6].fill',
        rule: 'not_rgb',
        message: expect.stringMatching(
          /^"gold" is a spot ink, but an RGB PDF\/A-2b template prints in RGB alone/,
        ),
      }),
      expect.objectContaining({
        path: 'pages[0].elements[7].fill',
        rule: 'not_rgb',
        message: expect.stringMatching(/^a CMYK colour, but/),
      }),
    ]);
  });
});

describe('printer’s marks on an RGB PDF/A template', () => {
  it('are refused in the manifest, and a proof with marks asked for does not claim PDF/A', async () => {
    const marked = await templateCopy('multilingual-sample', (m) => {
      m.output = { standard: 'PDF/A-1b', marks: true };
    });
    const error = (await compileTemplate(marked).catch((e: unknown) => e)) as { problems?: object[] };
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'output.marks',
        rule: 'not_rgb',
        message: expect.stringMatching(/^printer’s marks/),
      }),
    ]);
    const dir = await templateCopy('multilingual-sample', (m) => standard('PDF/A-1b')(m as Manifest));
    const compiled = withMarks(await compileTemplate(dir), true);
    const sample = samples(compiled)[0]!;
    const proof = await renderToBuffer(compiled, [preparePiece(compiled, sample.record, sample.images)]);
    expect(await uncompressed(proof)).not.toMatch(/pdfaid/);
  });
});

describe('PDF/A-2b', () => {
  it('breaks only the PDF/A-1b rules PDF/A-2 relaxes: its part number and the fonts’ CIDSet', async () => {
    const pdf = await piece(
      'multilingual-sample',
      (m) => {
        standard('PDF/A-2b')(m);
        withBadge(m);
      },
      { 'badge.png': await translucentPng() },
    );
    const verdict = await pdfboxPreflight(pdf);
    expect(verdict.valid).toBe(false);
    const kinds = new Set(
      verdict.errors.map((e) =>
        /^7\.11\.2 : .*part must be 1/.test(e)
          ? 'part'
          : /^3\.1\.11 : .*CIDSet entry is missing/.test(e)
            ? 'CIDSet'
            : /^[0-9.]+ : .*(SMask|[Tt]ransparen)/.test(e)
              ? 'transparency'
              : e,
      ),
    );
    // PDF/A-2 allows soft masks (ISO 19005-2, 6.4): the badge keeps its transparency.
    expect([...kinds].sort()).toEqual(['CIDSet', 'part', 'transparency']);
    const text = await uncompressed(pdf);
    expect(text).toMatch(/<pdfaid:part>2<\/pdfaid:part>\s*<pdfaid:conformance>B<\/pdfaid:conformance>/);
    expect(text.startsWith('%PDF-1.7')).toBe(true);
  });
});
