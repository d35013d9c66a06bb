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
