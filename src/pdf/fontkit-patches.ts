import * as fontkit from 'fontkit';
import { requireVersion } from './package-version.js';

/**
 * fontkit's internals that Platen patches, all here, each keeping fontkit's output as it was
 * (test/unit/fontkit-patches.test.ts, test/unit/font-subset.test.ts): decoded TrueType glyphs are
 * kept, and TrueType subsets write their font file directly. Written for fontkit 2.0.4, which
 * installFontkitPatches requires.
 */
const FONTKIT_VERSION = '2.0.4';

let installed = false;

/** Patches fontkit's TrueType glyphs and subsets, once per process; refuses another fontkit version. */
export function installFontkitPatches(): void {
  if (installed) return;
  requireVersion('fontkit', FONTKIT_VERSION, "Platen's fontkit patches (src/pdf/fontkit-patches.ts)");
  // fontkit exports no classes: a font whose directory names a glyph table hands out the TrueType ones.
  const font = fontkit.create(GLYF_ONLY) as fontkit.Font;
  keepDecodedGlyphs(Object.getPrototypeOf(font.getGlyph(0)) as DecodingGlyph);
  writeSubsetsDirectly(
    Object.getPrototypeOf(
      (font as unknown as { createSubset(): TrueTypeSubset }).createSubset(),
    ) as TrueTypeSubset,
  );
  installed = true;
}

/** A font file of a table directory naming one empty `glyf` table: enough for fontkit to make one. */
const GLYF_ONLY = (() => {
  const bytes = Buffer.alloc(28);
  bytes.write('true', 0, 'latin1');
  bytes.writeUInt16BE(1, 4); // one table
  bytes.writeUInt16BE(16, 6); // its search range
  bytes.write('glyf', 12, 'latin1');
  bytes.writeUInt32BE(28, 20); // at the end of the directory, length 0
  return bytes;
})();

// ------------------------------------------------------------------------------ decoded glyphs

/**
 * Every document subsets its fonts, and fontkit's TrueType subsetter decodes each glyph it copies
 * (every point of its outline) just to learn whether it is composite: about a third of the time
 * of a one-piece PDF (ZIP drops, API renders). A glyph's outline never changes, so the decoded glyph is
 * kept on fontkit's glyph object (cached per font) for the next document. Variable fonts are left
 * alone: fontkit moves their decoded points in place for each variation.
 */
function keepDecodedGlyphs(proto: DecodingGlyph): void {
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
  _decode(this: DecodingGlyph): unknown;
  [DECODED]?: unknown;
}

// ------------------------------------------------------------------------------ direct subsets

/*
 * A TrueType subset's font file, written directly. fontkit's subsetter hands every table to
 * restructure, which encodes them field by field and number by number, the ones a subset copies
 * unchanged included (`cvt `, `prep`, `fpgm`: thousands of numbers in a hinted font): about a tenth
 * of the time of a one-piece PDF, which a ZIP drop pays for every row. This lays out the very same
 * bytes: fontkit's glyph collection (`_addGlyph`, composite glyphs and all), the same tables in the
 * same order, the unchanged ones copied from the font file, the two counts that change patched in.
 * Fonts it does not cover (CFF, WOFF, variable, tables of unusual sizes) keep fontkit's own encoder.
 */

/** What a fontkit TrueType subset holds while it encodes (fontkit 2.0, TTFSubset). */
interface TrueTypeSubset {
  font: SubsetFont;
  glyphs: number[];
  glyf: Uint8Array[];
  offset: number;
  loca: { offsets: number[]; version: number };
  hmtx: { metrics: { advance: number; bearing: number }[]; bearings: number[] };
  _addGlyph(gid: number): number;
  encode(): Uint8Array;
}

interface SubsetFont {
  type: string;
  _variationProcessor?: unknown;
  loca: { version: number };
  stream: { buffer: Uint8Array };
  directory: { tables: Record<string, { offset: number; length: number } | undefined> };
}

/** The tables fontkit writes, in its order (those a font lacks are left out). */
const TABLES = ['head', 'hhea', 'loca', 'maxp', 'cvt ', 'prep', 'glyf', 'hmtx', 'fpgm'] as const;
/** Sizes fontkit encodes these tables at; a font whose tables differ keeps fontkit's encoder. */
const FIXED_SIZES: Record<string, number[]> = { head: [54], hhea: [36], maxp: [6, 32] };

/** Per font: its unchanged tables' bytes, or null when this encoder does not cover it. */
const copied = new WeakMap<object, Map<string, Uint8Array> | null>();

/** Makes every TrueType subset write its font file directly (see above). */
function writeSubsetsDirectly(proto: TrueTypeSubset): void {
  const encode = proto.encode;
  proto.encode = function (this: TrueTypeSubset) {
    const tables = unchangedTables(this.font);
    return tables ? encodeSubset(this, tables) : encode.call(this);
  };
}

function unchangedTables(font: SubsetFont): Map<string, Uint8Array> | null {
  let tables = copied.get(font);
  if (tables === undefined) {
    tables = font.type === 'TTF' && !font._variationProcessor ? readTables(font) : null;
    copied.set(font, tables);
  }
  return tables;
}

function readTables(font: SubsetFont): Map<string, Uint8Array> | null {
  const tables = new Map<string, Uint8Array>();
  for (const tag of ['head', 'hhea', 'maxp', 'cvt ', 'prep', 'fpgm']) {
    const entry = font.directory.tables[tag];
    if (!entry) {
      if (tag in FIXED_SIZES) return null;
      continue;
    }
    const sizes = FIXED_SIZES[tag];
    if (sizes ? !sizes.includes(entry.length) : tag === 'cvt ' && entry.length % 2 !== 0) return null;
    tables.set(tag, font.stream.buffer.subarray(entry.offset, entry.offset + entry.length));
  }
  return tables;
}

function encodeSubset(subset: TrueTypeSubset, unchanged: Map<string, Uint8Array>): Uint8Array {
  // Glyph collection exactly as fontkit's encode does it: composites add their parts as they go.
  subset.glyf = [];
  subset.offset = 0;
  subset.loca = { offsets: [], version: subset.font.loca.version };
  subset.hmtx = { metrics: [], bearings: [] };
  for (let i = 0; i < subset.glyphs.length; i++) subset._addGlyph(subset.glyphs[i]!);
  subset.loca.offsets.push(subset.offset);
  const glyphs = subset.glyf.length;

  const built = new Map<string, Uint8Array>();
  const shortLoca = subset.loca.version === 0;
  const loca = new DataView(new ArrayBuffer(subset.loca.offsets.length * (shortLoca ? 2 : 4)));
  subset.loca.offsets.forEach((offset, i) =>
    shortLoca ? loca.setUint16(2 * i, offset >>> 1) : loca.setUint32(4 * i, offset),
  );
  built.set('loca', new Uint8Array(loca.buffer));
  const glyf = new Uint8Array(subset.offset);
  let at = 0;
  for (const bytes of subset.glyf) {
    glyf.set(bytes, at);
    at += bytes.length;
  }
  built.set('glyf', glyf);
  const hmtx = new DataView(new ArrayBuffer(4 * subset.hmtx.metrics.length));
  subset.hmtx.metrics.forEach(({ advance, bearing }, i) => {
    hmtx.setUint16(4 * i, advance);
    hmtx.setInt16(4 * i + 2, bearing);
  });
  built.set('hmtx', new Uint8Array(hmtx.buffer));
  // hhea's numberOfMetrics and maxp's numGlyphs count the subset's glyphs.
  const hhea = Uint8Array.from(unchanged.get('hhea')!);
  new DataView(hhea.buffer).setUint16(34, subset.hmtx.metrics.length);
  built.set('hhea', hhea);
  const maxp = Uint8Array.from(unchanged.get('maxp')!);
  new DataView(maxp.buffer).setUint16(4, glyphs);
  built.set('maxp', maxp);

  const tables = TABLES.flatMap((tag) => {
    const bytes = built.get(tag) ?? unchanged.get(tag);
    return bytes ? [[tag, bytes] as const] : [];
  });
  // The table directory as fontkit writes it: checksums left 0, tables one after another, unpadded.
  const headerSize = 12 + 16 * tables.length;
  const out = new Uint8Array(headerSize + tables.reduce((n, [, bytes]) => n + bytes.length, 0));
  const view = new DataView(out.buffer);
  const entrySelector = Math.floor(Math.log2(tables.length));
  const searchRange = 2 ** entrySelector * 16;
  view.setUint32(0, 0x74727565); // 'true'
  view.setUint16(4, tables.length);
  view.setUint16(6, searchRange);
  view.setUint16(8, entrySelector);
  view.setUint16(10, tables.length * 16 - searchRange);
  let offset = headerSize;
  tables.forEach(([tag, bytes], i) => {
    const entry = 12 + 16 * i;
    for (let c = 0; c < 4; c++) view.setUint8(entry + c, tag.charCodeAt(c));
    view.setUint32(entry + 8, offset);
    view.setUint32(entry + 12, bytes.length);
    out.set(bytes, offset);
    offset += bytes.length;
  });
  return out;
}
