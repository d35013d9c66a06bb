import { deflateSync } from 'node:zlib';
import type PDFDocument from 'pdfkit';

/**
 * The parts of pdfkit 0.20.2 we use that have no public API (Form XObjects, raw image objects,
 * text emitted from our own line layout). pdfkit is pinned to that exact version in package.json
 * for this reason, and test/render covers each of them.
 */

export interface PdfRef {
  data: Record<string, unknown>;
  write(chunk: string | Uint8Array): void;
  end(chunk?: string | Uint8Array): void;
  toString(): string;
}

export interface PdfEmbeddedFont {
  id: string;
  ref(): PdfRef;
  encode(
    text: string,
  ): [
    string[],
    { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number; advanceWidth: number }[],
  ];
  /** How pdfkit lays out each word it encodes; replaced by the face's own cache (FontFace.run). */
  layoutCached: (text: string) => unknown;
}

/** What pdfkit's drawing calls touch on `doc.page`; a Form XObject stands in for a page through this. */
export interface PdfPageLike {
  width: number;
  height: number;
  readonly fonts: Record<string, PdfRef>;
  readonly xobjects: Record<string, PdfRef>;
  readonly ext_gstates: Record<string, PdfRef>;
  readonly patterns: Record<string, PdfRef>;
  readonly colorSpaces: Record<string, PdfRef>;
  write(chunk: string | Uint8Array): void;
  dictionary: PdfRef;
  resources: PdfRef;
}

export type Doc = Omit<PDFKit.PDFDocument, 'page' | 'ref'> & {
  page: PdfPageLike;
  _font: PdfEmbeddedFont;
  _ctm: number[];
  ref(data?: Record<string, unknown>): PdfRef;
  addContent(data: string): Doc;
  _root: PdfRef;
};

export function asDoc(doc: InstanceType<typeof PDFDocument>): Doc {
  return doc as unknown as Doc;
}

interface PdfReferenceInternals {
  compress: boolean;
  buffer: Uint8Array[];
  finalize(): void;
}

const sizedPrototypes = new WeakSet<object>();

/**
 * Deflates each stream of pdfkit's documents with zlib's memory sized to the stream. pdfkit uses
 * zlib's defaults, some 256 KB of window, hash and symbol buffers set up and zeroed for every stream;
 * a mail drop's streams are mostly a few hundred bytes (a page's content, a line's form), and in a
 * batch worker that setup, in fresh pages of memory each time, cost more than the compressing. A
 * window and buffers as large as the stream find the same matches: the data deflates to the same
 * bytes (checked on 3,000 slices of a drop, up to 60 KB), only the two-byte zlib header, which names
 * the window size, differs.
 */
export function deflateStreamsSized(doc: Doc): void {
  const proto = Object.getPrototypeOf(doc._root) as PdfReferenceInternals;
  if (sizedPrototypes.has(proto)) return;
  sizedPrototypes.add(proto);
  const finalize = proto.finalize;
  proto.finalize = function (this: PdfReferenceInternals) {
    if (this.compress && this.buffer.length > 0) {
      const data = Buffer.concat(this.buffer);
      this.buffer = [deflateSync(data, sizedTo(data.length))];
      this.compress = false; // deflated here; write() has set the Filter already
    }
    finalize.call(this);
  };
}

/** zlib's window (2^windowBits) holds the whole stream with its lookahead; its hash and symbol buffers (2^(memLevel+7), 2^(memLevel+6)) hold as many entries as the stream has bytes. */
function sizedTo(length: number): { windowBits: number; memLevel: number } {
  const bits = Math.ceil(Math.log2(length + 262));
  return {
    windowBits: Math.min(15, Math.max(9, bits)),
    memLevel: Math.min(8, Math.max(1, Math.ceil(Math.log2(length + 1)) - 6)),
  };
}
