import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as fontkit from 'fontkit';
import { installFontkitPatches } from '../pdf/fontkit-patches.js';

/** A laid-out chunk of text as pdfkit caches it: positions and advances in 1/1000 em. */
export interface LaidOutRun {
  advanceWidth: number;
}

/**
 * A font face parsed once per process and shared by every template, document and worker task that
 * uses the same file: loading fonts is most of what a document costs every PDF engine (docs/perf.md).
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
   * string table took batch workers a measurable share of their time (docs/perf.md).
   */
  private readonly runs = new Map<string, LaidOutRun>();
  readonly ascent: number;
  readonly descent: number;
  /** Its weight and slant, from the font's own tables: a fallback for this face is chosen to match. */
  readonly bold: boolean;
  readonly italic: boolean;

  constructor(
    /** Content hash: two templates shipping the same file share one face. */
    readonly key: string,
    readonly font: fontkit.Font,
  ) {
    this.scale = 1000 / font.unitsPerEm;
    this.ascent = font.ascent / font.unitsPerEm;
    this.descent = font.descent / font.unitsPerEm;
    const os2 = (
      font as unknown as { 'OS/2'?: { usWeightClass?: number; fsSelection?: { italic?: boolean } } }
    )['OS/2'];
    this.bold = (os2?.usWeightClass ?? 400) >= 600;
    this.italic = os2?.fsSelection?.italic === true || font.italicAngle !== 0;
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
 * number hundreds to a few thousand; the rest, names and house numbers, rarely recur, and a larger
 * cache only raises the workers' heaps (docs/perf.md).
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

/**
 * Parses a font file, once per process per distinct content. Throws with a reason a person can act
 * on: a font that is not TrueType or OpenType, or whose tables are truncated or inconsistent. `verify`
 * (a package being checked) also decodes the outline and advance of every glyph of the characters
 * most text uses, once per process per distinct content, so a damaged font is refused before
 * anything is drawn with it.
 */
export async function loadFontFace(path: string, options: { verify?: boolean } = {}): Promise<FontFace> {
  const bytes = await readFile(path);
  const problem = fontFormatProblem(bytes);
  if (problem) throw new Error(problem);
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  let face = faces.get(key);
  if (!face) {
    installFontkitPatches();
    const font = openFont(bytes);
    face = new FontFace(key, font);
  }
  if (options.verify && !verified.has(key)) {
    decodeCommonGlyphs(face.font);
    verified.add(key);
  }
  faces.set(key, face);
  return face;
}

const verified = new Set<string>();

/** Basic Latin and Latin-1: the characters of most text, checked glyph by glyph (about 200). */
const COMMON_CHARACTERS: [number, number] = [0x20, 0xff];

/**
 * Parses a font and checks its structure: fontkit reads tables lazily, so a truncated or damaged file
 * parses and then fails wherever a glyph is first read (pdfkit, fit, a publish).
 */
function openFont(bytes: Buffer): fontkit.Font {
  let font;
  try {
    font = fontkit.create(bytes);
  } catch (error) {
    throw new Error(`not a readable font: ${(error as Error).message}`, { cause: error });
  }
  if (!('layout' in font)) throw new Error('font collections are not supported');
  let problem: string | null;
  try {
    problem = structureProblem(font as unknown as FontTables, bytes.length);
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem) throw new Error(`the font file is truncated or damaged: ${problem}`);
  return font;
}

/** What structureProblem reads of a fontkit font: its table directory and parsed tables. */
interface FontTables {
  directory: { tables: Record<string, { offset: number; length: number; compLength?: number }> };
  numGlyphs: number;
  loca?: { offsets: number[] };
  hhea: { numberOfMetrics: number };
}

/**
 * Why a font's tables cannot be trusted, or null: every table inside the file, every glyph's outline
 * inside the glyph table (TrueType), a metric for every glyph. Cheap (no glyph is decoded), so every
 * load checks it.
 */
function structureProblem(font: FontTables, size: number): string | null {
  const { tables } = font.directory;
  for (const [tag, table] of Object.entries(tables)) {
    if (table.offset + (table.compLength ?? table.length) > size) {
      return `its ${tag.trim()} table ends past the end of the file`;
    }
  }
  const glyphs = font.numGlyphs;
  if (tables.glyf) {
    const offsets = font.loca?.offsets ?? [];
    if (offsets.length < glyphs + 1) return 'its loca table has fewer entries than it has glyphs';
    for (let i = 1; i <= glyphs; i++) {
      if (offsets[i]! < offsets[i - 1]!) return `the outline of glyph ${i - 1} has a negative length`;
    }
    if (offsets[glyphs]! > tables.glyf.length) return 'its glyph outlines run past the end of its glyf table';
  }
  const long = font.hhea.numberOfMetrics;
  if (!tables.hmtx || tables.hmtx.length < long * 4 + (glyphs - long) * 2) {
    return 'its hmtx table has no advance width for every glyph';
  }
  return null;
}

/** Decodes the outline and advance of the glyph of every common character the font has. */
function decodeCommonGlyphs(font: fontkit.Font): void {
  const [first, last] = COMMON_CHARACTERS;
  for (let codePoint = first; codePoint <= last; codePoint++) {
    try {
      if (!font.hasGlyphForCodePoint(codePoint)) continue;
      const glyph = font.glyphForCodePoint(codePoint);
      void glyph.path;
      void glyph.advanceWidth;
    } catch (error) {
      const char = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new Error(
        `the font file is damaged: the glyph of ${char} cannot be read (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
}
