import { deflateSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import PDFDocument from 'pdfkit';
import { requireVersion } from './package-version.js';
import type { ObjectSink } from './structures.js';
import { xmlText } from './xmp.js';

/**
 * The parts of pdfkit 0.20.2 we use that have no public API (Form XObjects, raw image objects,
 * text emitted from our own line layout), typed, and pdfkit's patches, all here. pdfkit is pinned
 * to that exact version in package.json for this reason, installPdfkitPatches requires it, and
 * test/render and test/unit/pdfkit-patches.test.ts cover them.
 */
const PDFKIT_VERSION = '0.20.2';

export interface PdfRef {
  readonly id: number;
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

/**
 * A value pdfkit writes as the text it holds: its serializer writes any object that is not a plain
 * one (this one's tag says it is not) through toString.
 */
export class PdfText {
  constructor(private readonly text: string) {}
  get [Symbol.toStringTag](): string {
    return 'PdfText';
  }
  toString(): string {
    return this.text;
  }
}

/**
 * A name for the Info dictionary (`/Trapped /False`), written in the dictionary itself: pdfkit makes
 * every other Info value an object of its own (see directInfoNames).
 */
export class InfoName extends PdfText {
  constructor(name: string) {
    super(`/${name}`);
  }
  /** What pdfkit calls on the object it made of an Info value; this one is written where it is used. */
  end(): void {}
}

/** A reference to object `n`, as a value of pdfkit's dictionaries. */
export function refTo(n: number): PdfText {
  return new PdfText(`${n} 0 R`);
}

/**
 * Hands a document's bytes to `write` as pdfkit writes them, and calls `end` after the last. pdfkit
 * pushes each object into a Readable stream, whose 'data' events wait for the event loop: a batch
 * worker gives it back only when its output has no room, which the output never lacks while the bytes
 * wait in the stream. A whole part piled up there, thousands of small buffers that outlived the young
 * generation (docs/perf.md).
 */
export function takeOutput(doc: Doc, write: (chunk: Uint8Array) => void, end: () => void): void {
  const stream = doc as unknown as Readable;
  // What the constructor wrote (the header) is in the stream already.
  for (let head: Buffer | null; (head = stream.read() as Buffer | null) !== null;) write(head);
  stream.push = (chunk: Uint8Array | null) => {
    if (chunk === null) end();
    else write(chunk);
    return true;
  };
}

/** Writes objects whose text Platen lays out itself (see structures.ts) into a pdfkit document. */
export function objectSink(doc: Doc): ObjectSink {
  const pending = new Map<number, PdfRef>();
  return {
    allocate() {
      const ref = doc.ref();
      pending.set(ref.id, ref);
      return ref.id;
    },
    write(n, head) {
      const ref = pending.get(n)!;
      pending.delete(n);
      ref.data = new PdfText(head) as unknown as Record<string, unknown>;
      ref.end();
    },
  };
}

/**
 * Adds a page that uses a document's shared resources. pdfkit's page makes its own resource object
 * (the second ref its constructor asks for) and writes it when the page ends; this hands it the shared
 * one instead, and ends the page without ending that.
 */
export function addSharedPage(doc: Doc, width: number, height: number, resources: PdfRef): void {
  const ref = doc.ref;
  let calls = 0;
  doc.ref = (data?: Record<string, unknown>) => (++calls === 2 ? resources : ref.call(doc, data));
  try {
    doc.addPage({ size: [width, height], margin: 0 });
  } finally {
    doc.ref = ref;
  }
  const page = doc.page as PdfPageLike & { content: PdfRef; end: () => void };
  if (page.resources !== resources) throw new Error('pdfkit page layout changed: pin pdfkit 0.20.2');
  page.end = () => {
    page.dictionary.end();
    page.content.end();
    // pdfkit keeps every page in its page tree until the file ends; once written, only their ids
    // are used again, so their data goes and memory stays flat however many pages a file holds.
    page.dictionary.data = {};
    page.content.data = {};
  };
}

let installed = false;

/**
 * Patches pdfkit, once per process: streams deflated with zlib's memory sized to them, Info values
 * escaped in the XMP packet, no stray key on the XMP stream, a document's own XMP packet when it has
 * one, and Info names written in place. Refuses another pdfkit version.
 */
export function installPdfkitPatches(): void {
  if (installed) return;
  requireVersion('pdfkit', PDFKIT_VERSION, "Platen's pdfkit patches (src/pdf/pdfkit.ts)");
  // pdfkit exports no PDFReference: a document's catalog is one.
  const doc = asDoc(new PDFDocument({ autoFirstPage: false, font: null as unknown as string }));
  deflateStreamsSized(Object.getPrototypeOf(doc._root) as PdfReferenceInternals);
  escapeXmpInfo(PDFDocument.prototype as unknown as InfoInternals);
  metadataWithoutStrayLength(PDFDocument.prototype as unknown as MetadataInternals);
  ownXmpPacket(PDFDocument.prototype as unknown as MetadataInternals);
  directInfoNames(PDFDocument.prototype as unknown as EndInternals);
  installed = true;
}

interface PdfReferenceInternals {
  compress: boolean;
  buffer: Uint8Array[];
  finalize(): void;
}

/**
 * Deflates each stream of pdfkit's documents with zlib's memory sized to the stream. pdfkit uses
 * zlib's defaults, some 256 KB of window, hash and symbol buffers set up and zeroed for every stream;
 * a mail drop's streams are mostly a few hundred bytes (a page's content, a line's form), and in a
 * batch worker that setup, in fresh pages of memory each time, cost more than the compressing. A
 * window and buffers as large as the stream find the same matches: the data deflates to the same
 * bytes, only the two-byte zlib header, which names the window size, differs (docs/perf.md).
 */
function deflateStreamsSized(proto: PdfReferenceInternals): void {
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

interface InfoInternals {
  info: Record<string, unknown>;
  _addInfo(this: InfoInternals): void;
}

/**
 * pdfkit copies Info values into the XMP packet without escaping them (PDF-NOTES.md), so a title
 * such as "Smith & Sons <Ltd>" breaks the XMP. Escape them for the XMP only; Info keeps them as written.
 */
function escapeXmpInfo(proto: InfoInternals): void {
  const addInfo = proto._addInfo;
  proto._addInfo = function (this: InfoInternals) {
    const raw = { ...this.info };
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value === 'string') this.info[key] = xmlText(value);
    }
    try {
      addInfo.call(this);
    } finally {
      Object.assign(this.info, raw);
    }
  };
}

interface MetadataInternals {
  ref(data?: Record<string, unknown>): PdfRef;
  endMetadata(this: MetadataInternals): void;
  _root: PdfRef;
  [XMP]?: () => string;
}

const XMP = Symbol('platenXmp');

/**
 * Has a document write this XMP packet (see pdf/xmp.ts), made when the document ends, in place of
 * pdfkit's (which has no identification schemas). Needs installPdfkitPatches.
 */
export function setXmpPacket(doc: Doc, packet: () => string): void {
  (doc as unknown as MetadataInternals)[XMP] = packet;
}

interface EndInternals {
  ref(data?: unknown): unknown;
  end(this: EndInternals): void;
}

/**
 * pdfkit writes each Info value as an object of its own, referred to from the Info dictionary. For a
 * name (InfoName: PDF/X's Trapped) that is legal, but PDF/X checkers read Trapped without following
 * the reference; so an InfoName is handed back as the value itself, with no object made for it.
 */
function directInfoNames(proto: EndInternals): void {
  const end = proto.end;
  proto.end = function (this: EndInternals) {
    const ref = this.ref;
    this.ref = (data) => (data instanceof InfoName ? data : ref.call(this, data));
    try {
      end.call(this);
    } finally {
      this.ref = ref;
    }
  };
}

/** Writes the packet a document was given (setXmpPacket), uncompressed as XMP asks, instead of pdfkit's. */
function ownXmpPacket(proto: MetadataInternals): void {
  const endMetadata = proto.endMetadata;
  proto.endMetadata = function (this: MetadataInternals) {
    const packet = this[XMP];
    if (!packet) return endMetadata.call(this);
    const ref = this.ref({ Type: 'Metadata', Subtype: 'XML' });
    (ref as PdfRef & { compress: boolean }).compress = false;
    ref.end(Buffer.from(packet(), 'utf8'));
    this._root.data.Metadata = ref;
  };
}

/**
 * pdfkit gives the XMP metadata stream a lowercase `length` entry besides the `Length` every stream
 * gets: PDF names are case-sensitive, so it is a stray key that validators flag. Leave it out.
 */
function metadataWithoutStrayLength(proto: MetadataInternals): void {
  const endMetadata = proto.endMetadata;
  proto.endMetadata = function (this: MetadataInternals) {
    const ref = this.ref;
    this.ref = (data) => {
      if (data?.Type === 'Metadata') delete data.length;
      return ref.call(this, data);
    };
    try {
      endMetadata.call(this);
    } finally {
      this.ref = ref;
    }
  };
}
