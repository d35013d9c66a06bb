import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import { describe, expect, it } from 'vitest';
import { installFontkitPatches } from '../../src/pdf/fontkit-patches.js';
import { requireVersion } from '../../src/pdf/package-version.js';

/**
 * fontkit's patches replace how every glyph is decoded: with them, each glyph of every bundled font
 * must decode, draw and measure as with stock fontkit (its method kept from before the patch, put back
 * while the stock side is read), also once a subset has decoded it first and the kept decoding is
 * reused. (The direct subset writer has its own byte-for-byte test: font-subset.test.ts.)
 */

const ROOT = join(import.meta.dirname, '../..');
const FONT_DIRS = [
  'assets/fonts',
  ...readdirSync(join(ROOT, 'templates')).map((name) => `templates/${name}/fonts`),
  'bench/mailer/fonts',
];
/** Every bundled font file, each content once. */
const fonts = new Map<string, Buffer>();
for (const dir of FONT_DIRS) {
  if (!existsSync(join(ROOT, dir))) continue; // a template without fonts of its own
  for (const name of readdirSync(join(ROOT, dir)).filter((n) => /\.(ttf|otf)$/i.test(n))) {
    const bytes = readFileSync(join(ROOT, dir, name));
    if (![...fonts.values()].some((other) => other.equals(bytes))) fonts.set(`${dir}/${name}`, bytes);
  }
}

interface Glyph {
  _decode(): unknown;
}
const open = (bytes: Buffer) => fontkit.create(bytes) as fontkit.Font;
const glyphs = Object.getPrototypeOf(open(fonts.values().next().value!).getGlyph(0)) as Glyph;
const stockDecode = glyphs._decode;
installFontkitPatches();
const patchedDecode = glyphs._decode;

function stock<T>(read: () => T): T {
  glyphs._decode = stockDecode;
  try {
    return read();
  } finally {
    glyphs._decode = patchedDecode;
  }
}

/** What a glyph is to a document: its decoded outline, path, boxes and advance. */
function describeGlyphs(font: fontkit.Font): unknown[] {
  return Array.from({ length: font.numGlyphs }, (_, gid) => {
    const glyph = font.getGlyph(gid);
    return [
      (glyph as unknown as Glyph)._decode(),
      glyph.path.toSVG(),
      { ...glyph.bbox },
      { ...glyph.cbox },
      glyph.advanceWidth,
    ];
  });
}

describe('fontkit patches', () => {
  it('refuse a fontkit other than the one they were written for', () => {
    expect(() => requireVersion('fontkit', '2.0.4', 'the patches')).not.toThrow();
    expect(() => requireVersion('fontkit', '2.1.0', 'the patches')).toThrow(
      /the patches patch fontkit 2\.1\.0, but fontkit 2\.0\.4 is installed/,
    );
  });

  it('found the bundled fonts', () => {
    expect(fonts.size).toBeGreaterThanOrEqual(7);
    expect(patchedDecode).not.toBe(stockDecode);
  });

  it.each([...fonts.keys()])('decode every glyph of %s as stock fontkit does', (name) => {
    const bytes = fonts.get(name)!;
    const want = stock(() => describeGlyphs(open(bytes)));
    // Patched: a subset of every glyph decodes each first (as a document's does), and the path,
    // boxes and advances are then read through the decoding it kept.
    const font = open(bytes);
    const subset = (
      font as unknown as { createSubset(): { includeGlyph(gid: number): void; encode(): Uint8Array } }
    ).createSubset();
    for (let gid = 0; gid < font.numGlyphs; gid++) subset.includeGlyph(gid);
    subset.encode();
    expect(describeGlyphs(font)).toEqual(want);
  });
});
