import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as fontkit from 'fontkit';

/**
 * A font face parsed once per process and shared by every template, document and worker task that
 * uses the same file: parsing is what costs every PDF engine 35–50 ms a document (PDF-NOTES.md).
 */
export class FontFace {
  /** Units of the em, in which fontkit reports advances. */
  private readonly unitsPerEm: number;
  /** Advance widths at size 1, by text chunk. Bounded: distinct words of a mail drop are unbounded. */
  private readonly widths = new Map<string, number>();
  readonly ascent: number;
  readonly descent: number;

  constructor(
    /** Content hash: two templates shipping the same file share one face. */
    readonly key: string,
    readonly font: fontkit.Font,
  ) {
    this.unitsPerEm = font.unitsPerEm;
    this.ascent = font.ascent / font.unitsPerEm;
    this.descent = font.descent / font.unitsPerEm;
  }

  get name(): string {
    return this.font.postscriptName ?? this.key;
  }

  /** Coverage of the Basic Multilingual Plane, looked up once per code point: 0 unknown, 1 yes, 2 no. */
  private readonly coverage = new Uint8Array(0x10000);

  hasChar(codePoint: number): boolean {
    if (codePoint > 0xffff) return this.font.hasGlyphForCodePoint(codePoint);
    let known = this.coverage[codePoint];
    if (!known) {
      known = this.font.hasGlyphForCodePoint(codePoint) ? 1 : 2;
      this.coverage[codePoint] = known;
    }
    return known === 1;
  }

  /**
   * Advance width of `text` at size 1. Laid out by fontkit with its default features (kerning,
   * ligatures), exactly as pdfkit lays out the same chunk when it encodes it, so what fit measures
   * is what draw prints.
   */
  width(text: string): number {
    let w = this.widths.get(text);
    if (w === undefined) {
      w = this.font.layout(text).advanceWidth / this.unitsPerEm;
      if (this.widths.size >= MAX_CACHED_WIDTHS) this.widths.clear();
      this.widths.set(text, w);
    }
    return w;
  }
}

const MAX_CACHED_WIDTHS = 50_000;

const faces = new Map<string, FontFace>();

/** Why a font file cannot be used, or null when it can. Checked on the magic number, not the name. */
export function fontFormatProblem(bytes: Uint8Array): string | null {
  const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (magic === 'wOF2') return 'WOFF2 fonts are not supported (pdfkit draws them as invisible text): convert to TTF or OTF';
  if (magic === 'ttcf') return 'font collections (.ttc) are not supported: extract the face as TTF or OTF';
  if (magic === 'wOFF' || magic === 'OTTO' || magic === 'true' || magic === '\x00\x01\x00\x00') return null;
  return 'not a TrueType or OpenType font';
}

/** Parses a font file, once per process per distinct content. Throws with a reason a person can act on. */
export async function loadFontFace(path: string): Promise<FontFace> {
  const bytes = await readFile(path);
  const problem = fontFormatProblem(bytes);
  if (problem) throw new Error(problem);
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  let face = faces.get(key);
  if (!face) {
    const font = fontkit.create(bytes);
    if (!('layout' in font)) throw new Error('font collections are not supported');
    face = new FontFace(key, font);
    faces.set(key, face);
  }
  return face;
}
