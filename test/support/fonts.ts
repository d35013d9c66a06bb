/** Fonts for tests: the bundled templates' families, and TrueType files broken in one precise way. */
import path from 'node:path';
import * as fontkit from 'fontkit';
import { loadFontFace } from '../../src/assets/fonts.js';
import type { FontFamily } from '../../src/model/text.js';
import { BROCHURE_FONTS } from './repo.js';

/** The body family of the bundled templates (Source Sans 3, all four styles) and DejaVu as fallback. */
export async function loadFamilies(): Promise<{
  body: FontFamily;
  dejavu: FontFamily;
  headline: FontFamily;
}> {
  const face = (file: string) => loadFontFace(path.join(BROCHURE_FONTS, file));
  return {
    body: {
      name: 'body',
      regular: await face('SourceSans3-Regular.ttf'),
      bold: await face('SourceSans3-Bold.ttf'),
      italic: await face('SourceSans3-Italic.ttf'),
      boldItalic: await face('SourceSans3-BoldItalic.ttf'),
    },
    dejavu: {
      name: 'fallback',
      regular: await face('DejaVuSans.ttf'),
      bold: await face('DejaVuSans-Bold.ttf'),
    },
    headline: { name: 'headline', regular: await face('Merriweather-Bold.ttf') },
  };
}

/** Where a TrueType font keeps the outline of the glyph of `char`, in the file. */
function glyphData(ttf: Buffer, char: string): { start: number; end: number; id: number } {
  const font = fontkit.create(ttf) as unknown as {
    glyphForCodePoint(c: number): { id: number };
    directory: { tables: Record<string, { offset: number }> };
    loca: { offsets: number[] };
  };
  const { id } = font.glyphForCodePoint(char.codePointAt(0)!);
  const glyf = font.directory.tables.glyf!.offset;
  return { start: glyf + font.loca.offsets[id]!, end: glyf + font.loca.offsets[id + 1]!, id };
}

/**
 * A TrueType font whose glyph for `char` is a composite of itself: every table in place, so it
 * parses, but drawing (or measuring the outline of) that character recurses without end.
 */
export function fontWithSelfReferencingGlyph(ttf: Buffer, char: string): Buffer {
  const out = Buffer.from(ttf);
  const { start, end, id } = glyphData(out, char);
  const composite = Buffer.alloc(18);
  composite.writeInt16BE(-1, 0); // numberOfContours: a composite glyph
  composite.writeInt16BE(500, 6); // xMax (the bounding box is otherwise 0)
  composite.writeInt16BE(700, 8); // yMax
  composite.writeUInt16BE(0x0001, 10); // ARG_1_AND_2_ARE_WORDS, no more components
  composite.writeUInt16BE(id, 12); // the component: this very glyph
  if (end - start < composite.length) throw new Error(`the glyph of ${char} is too small to rewrite`);
  composite.copy(out, start);
  return out;
}

/** A TrueType font whose glyph locations (loca) run backwards at the glyph of `char`. */
export function fontWithLocaOutOfOrder(ttf: Buffer, char: string): Buffer {
  const out = Buffer.from(ttf);
  const font = fontkit.create(out) as unknown as {
    directory: { tables: Record<string, { offset: number }> };
    head: { indexToLocFormat: number };
  };
  const { id } = glyphData(out, char);
  const loca = font.directory.tables.loca!.offset;
  // Long offsets are bytes, short ones halves: either way 0 is before every other glyph.
  if (font.head.indexToLocFormat === 1) out.writeUInt32BE(0, loca + (id + 1) * 4);
  else out.writeUInt16BE(0, loca + (id + 1) * 2);
  return out;
}
