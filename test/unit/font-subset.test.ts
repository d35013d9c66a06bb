import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import { describe, expect, it } from 'vitest';
import { installFontkitPatches } from '../../src/pdf/fontkit-patches.js';

/**
 * The direct subset writer must lay out the very bytes fontkit's own encoder does: it replaces that
 * encoder for every TrueType font of every PDF. Each bundled font is subset with fontkit's encoder
 * (kept from before the patch) and with the direct writer, for glyph sets small and whole, with
 * composite glyphs (accented letters) that pull in their parts.
 */

const FONTS = join(import.meta.dirname, '../../assets/fonts');
const files = readdirSync(FONTS).filter((name) => name.endsWith('.ttf'));

interface GlyphSubset {
  glyphs: number[];
  includeGlyph(gid: number): number;
  encode(): Uint8Array;
}

const open = (name: string) => fontkit.create(readFileSync(join(FONTS, name))) as fontkit.Font;
/** fontkit's types leave out subsets. */
const newSubset = (font: fontkit.Font) => (font as unknown as { createSubset(): GlyphSubset }).createSubset();
// fontkit's encoder, taken before any font of this file is patched (all TrueType subsets share it).
const fontkitEncode = Object.getPrototypeOf(newSubset(open(files[0]!))).encode as () => Uint8Array;

/** Glyph sets: a word, accented (composite) letters, a pseudo-random spread, every glyph. */
function glyphSets(font: fontkit.Font): number[][] {
  const layout = (text: string) => font.layout(text).glyphs.map((glyph) => glyph.id);
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 0x7fffffff) % font.numGlyphs;
  return [
    layout('Mailer'),
    layout('Ångström café, naïve Zoë'),
    Array.from({ length: 300 }, random),
    Array.from({ length: font.numGlyphs }, (_, gid) => font.numGlyphs - 1 - gid),
  ];
}

describe('direct TrueType subsets (installFontkitPatches)', () => {
  it.each(files)('writes %s subsets byte for byte as fontkit does', (name) => {
    const font = open(name);
    installFontkitPatches();
    const proto = Object.getPrototypeOf(newSubset(font)) as GlyphSubset;
    expect(proto.encode).not.toBe(fontkitEncode);
    for (const gids of glyphSets(font)) {
      const expected = newSubset(font);
      const direct = newSubset(font);
      for (const gid of gids) {
        expected.includeGlyph(gid);
        direct.includeGlyph(gid);
      }
      const want = Buffer.from(fontkitEncode.call(expected));
      const got = Buffer.from(direct.encode());
      expect(direct.glyphs).toEqual(expected.glyphs);
      expect(got.length).toBe(want.length);
      expect(got.equals(want)).toBe(true);
    }
  });

  it('writes a font that parses, with the parts a composite glyph pulled in', () => {
    const font = open('DejaVuSans.ttf');
    installFontkitPatches();
    // The first composite glyph: encoding a subset of it alone adds its parts beside it and .notdef.
    const subsetOf = (gid: number) => {
      const subset = newSubset(font);
      subset.includeGlyph(gid);
      return { subset, file: subset.encode() };
    };
    let gid = 1;
    while (gid < font.numGlyphs && subsetOf(gid).subset.glyphs.length <= 2) gid++;
    expect(gid).toBeLessThan(font.numGlyphs);
    const { subset, file } = subsetOf(gid);
    const parsed = fontkit.create(Buffer.from(file)) as fontkit.Font;
    expect(parsed.numGlyphs).toBe(subset.glyphs.length);
    expect(parsed.getGlyph(1).path.commands.length).toBeGreaterThan(0);
    expect(parsed.getGlyph(1).advanceWidth).toBe(font.getGlyph(gid).advanceWidth);
  });
});
