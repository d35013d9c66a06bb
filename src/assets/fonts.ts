import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as fontkit from 'fontkit';
import { writeSubsetsDirectly } from './font-subset.js';

/**
 * A font face parsed once per process and shared by every template, document and worker task that
 * uses the same file: parsing is what costs every PDF engine 35–50 ms a document (PDF-NOTES.md).
 */
/** A laid-out chunk of text as pdfkit caches it: positions and advances in 1/1000 em. */
export interface LaidOutRun {
  advanceWidth: number;
}

/**
 * A font face parsed once per process and shared by every template, document and worker task that
 * uses the same file: parsing is what costs every PDF engine 35–50 ms a document (PDF-NOTES.md).
 *
 * It also owns the face's layout cache, in pdfkit's own format: fit measures words through it, and
 * every document's embedded font lays out through it, so a word is shaped by fontkit once per process,
 * and what fit measured is, glyph for glyph, what draw prints.
 */
export class FontFace {
  private readonly scale: number;
  /**
   * pdfkit-format runs by text chunk. Bounded: the distinct words of a mail drop are not. A Map, not
   * an object: an object's keys are interned, and looking up every word of every piece in V8's
   * string table took batch workers 5% of their time.
   */
  private readonly runs = new Map<string, LaidOutRun>();
  readonly ascent: number;
  readonly descent: number;

  constructor(
    /** Content hash: two templates shipping the same file share one face. */
    readonly key: string,
    readonly font: fontkit.Font,
  ) {
    this.scale = 1000 / font.unitsPerEm;
    this.ascent = font.ascent / font.unitsPerEm;
    this.descent = font.descent / font.unitsPerEm;
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

  /** Advance width of `text` at size 1, with fontkit's default features (kerning, ligatures). */
  width(text: string): number {
    return this.run(text).advanceWidth / 1000;
  }

  /**
   * Lays out a chunk exactly as pdfkit's EmbeddedFont.layoutRun does (pdfkit 0.20.2), cached. It is
   * also every embedded font's layoutCached for this face (document.ts), so what fit measured is what
   * draw prints.
   */
  readonly run = (text: string): LaidOutRun => {
    let run = this.runs.get(text);
    if (!run) {
      const laid = this.font.layout(text);
      let advanceWidth = 0;
      laid.positions.forEach((position, i) => {
        const scaled = position as unknown as Record<string, number>;
        for (const key in scaled) scaled[key]! *= this.scale;
        scaled.advanceWidth = laid.glyphs[i]!.advanceWidth * this.scale;
        advanceWidth += position.xAdvance;
      });
      // fontkit's GlyphRun sums its positions on every read of `advanceWidth`, and fit and pdfkit
      // read it for every word they measure or print: the same sum, in the same order, kept once.
      Object.defineProperty(laid, 'advanceWidth', { value: advanceWidth });
      run = laid as unknown as LaidOutRun;
      // Start afresh rather than track recency.
      if (this.runs.size >= MAX_CACHED_RUNS) this.runs.clear();
      this.runs.set(text, run);
    }
    return run;
  };
}

/**
 * About 1 KB each: a bounded 5 MB per face. A drop's recurring words (its copy, common names, towns)
 * number hundreds to a few thousand (the mailer workload: 444); the rest, names and house numbers,
 * rarely recur. At 20,000 a postcard drop's workers held 50–75 MB of heap, and peaked at 420 MB
 * against 339 MB now, in the same time.
 */
const MAX_CACHED_RUNS = 5_000;

const faces = new Map<string, FontFace>();

/** Why a font file cannot be used, or null when it can. Checked on the magic number, not the name. */
export function fontFormatProblem(bytes: Uint8Array): string | null {
  const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  if (magic === 'wOF2')
    return 'WOFF2 fonts are not supported (pdfkit draws them as invisible text): convert to TTF or OTF';
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
    keepDecodedGlyphs(font);
    writeSubsetsDirectly(font);
    face = new FontFace(key, font);
    faces.set(key, face);
  }
  return face;
}

const patched = new WeakSet<object>();

/**
 * Every document subsets its fonts, and fontkit's TrueType subsetter decodes each glyph it copies
 * (every point of its outline) just to learn whether it is composite: about a third of the time
 * of a one-piece PDF (ZIP drops, API renders). A glyph's outline never changes, so the decoded glyph is
 * kept on fontkit's glyph object (cached per font) for the next document. Variable fonts are left
 * alone: fontkit moves their decoded points in place for each variation.
 */
function keepDecodedGlyphs(font: fontkit.Font): void {
  const glyph = font.getGlyph(0) as unknown as { _decode?: () => unknown };
  const proto = Object.getPrototypeOf(glyph) as {
    _decode?: (this: DecodingGlyph) => unknown;
  };
  if (typeof proto._decode !== 'function' || patched.has(proto)) return;
  patched.add(proto);
  const decode = proto._decode;
  proto._decode = function (this: DecodingGlyph) {
    if (this._font._variationProcessor) return decode.call(this);
    if (!Object.hasOwn(this, DECODED)) this[DECODED] = decode.call(this);
    return this[DECODED];
  };
}

const DECODED = Symbol('decoded glyph');
interface DecodingGlyph {
  _font: { _variationProcessor?: unknown };
  [DECODED]?: unknown;
}
