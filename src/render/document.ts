import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type SVGtoPDF from 'svg-to-pdfkit';
import type { FontFace } from '../assets/fonts.js';
import { cmykImageReady, rgbToCmyk } from '../assets/cmyk.js';
import { embeddedImage } from '../assets/svg.js';
import type { PreparedImage } from '../assets/images.js';
import { kindOf } from '../elements/registry.js';
import { roomIn } from '../files.js';
import { type PrintSetup, textInk } from '../model/color.js';
import type { PageGeometry, SheetSize } from '../model/geometry.js';
import type { DrawItem, ElementItem, StaticLayer } from '../model/kinds.js';
import type { Painter, SvgArt } from '../model/painter.js';
import type { FittedPiece } from '../model/piece.js';
import type { PlacedLine, TextItem } from '../model/text.js';
import { onFirstUse } from '../on-first-use.js';
import { type Cell, Imposer, sheetContent, sheetLayout } from '../pdf/impose.js';
import { MARKS_MARGIN, marksOps } from '../pdf/marks.js';
import { keepPressIntent, pdfaOptions } from '../pdf/pdfa.js';
import type { PdfAStandard, PdfXStandard } from '../model/manifest.js';
import { identifyAsPdfUa } from '../pdf/pdfua.js';
import { setUpColor } from './color.js';
import { Tagger, type TaggingOptions } from './tagging.js';
import {
  type Doc,
  type PdfEmbeddedFont,
  type PdfPageLike,
  type PdfRef,
  asDoc,
  addSharedPage,
  installPdfkitPatches,
  InfoName,
  objectSink,
  refTo,
  setXmpPacket,
  takeOutput,
} from '../pdf/pdfkit.js';
import { uuidFrom, xmpPacket } from '../pdf/xmp.js';
import {
  type ObjectSink,
  Outline,
  PageLabels,
  pageLabel,
  RecordParts,
  recordPart,
} from '../pdf/structures.js';
import { num, pdfString } from '../pdf/syntax.js';
import { TextOps } from './text.js';

/**
 * The draw step: writes fitted pieces into one PDF document, streaming. Everything shareable is
 * written once per document and referenced after: fonts (subset to what the pieces use), images
 * (by content hash), each static layer (a Form XObject placed on every page that shows it), and
 * every text line that recurs (a mail drop repeats most of its copy word for word: the second time
 * a line is drawn it becomes a Form XObject too). All pages and forms share one resource dictionary.
 */

export interface DocumentInfo {
  title: string;
  templateId: string;
  version: number;
  /** Set when the document holds one piece: the SHA-256 of its record. */
  recordHash?: string;
}

/**
 * The PDF version each standard's files declare: PDF/X-4 allows at most 1.6 (ISO 15930-7);
 * PDF/X-1a:2001, whose identification these files carry, is PDF 1.3 (ISO 15930-1).
 */
const PDF_VERSIONS: Record<PdfXStandard, '1.3' | '1.6'> = { 'PDF/X-4': '1.6', 'PDF/X-1a': '1.3' };

/** Output chunks are gathered to about this size before a write: pdfkit emits many tiny ones. */
const WRITE_CHUNK = 64 * 1024;
/** Distinct text lines remembered per document for reuse; beyond this, new ones are drawn inline. */
const MAX_REMEMBERED_LINES = 20_000;

export interface DocumentOptions {
  /** Images to draw in place of others: smaller copies for screen previews. */
  imageVariants?: ReadonlyMap<PreparedImage, PreparedImage>;
  /**
   * The box a screen shows (the CropBox), never set for print: the trim box for a rep's preview (the
   * piece as it is after cutting), the bleed box for the designer (which draws trim and bleed over it).
   */
  crop?: 'trim' | 'bleed';
  /** Marks, colour space and spot inks (the template's `output`); default: RGB, no marks. */
  print?: PrintSetup;
  /** Step-and-repeat the pieces on press sheets of this size (see pdf/impose.ts); a print file only. */
  impose?: SheetSize;
  /** Tag the document (structure tree, language, title shown), as PDF/UA-1: for a single on-screen piece. */
  tagged?: TaggingOptions;
  /** Make the document PDF/A (the template's `output.standard`): for pieces emailed or archived. */
  pdfa?: PdfAStandard;
  /**
   * When the document was made (its Info and XMP dates, and the file ID pdfkit derives from them);
   * by default now. A batch job fixes it, so that a chunk rendered again, on any worker, gives the
   * same bytes.
   */
  created?: Date;
}

export class PieceDocument {
  private readonly doc: Doc;
  private readonly fonts = new Map<string, PdfEmbeddedFont>();
  private readonly images = new Map<string, PdfRef>();
  private readonly forms = new Map<string, PdfRef>();
  /** Text lines (see drawText) seen once (null) or made into a form, by lineKeys. */
  private readonly lines = new Map<string, { name: string; ref: PdfRef } | null>();
  /**
   * Each text element's last lines and their keys. Fit hands back the very same lines for a text
   * that comes out the same for every record (see fitText), and their keys are then the very same
   * strings, which V8 has hashed already for the lookups in `lines`.
   */
  private readonly lastKeys = new Map<string, { lines: PlacedLine[]; keys: string[] }>();
  private lineForms = 0;
  /** One resource dictionary for every page and form: written once, at the end. */
  private readonly resources: PdfRef;
  /**
   * The resources of forms that place no XObject (text lines, marks): the shared fonts and colour
   * spaces without the XObjects, so no form's resources hold the form itself. Validators walk
   * resources depth first, and PDFBox Preflight refuses a file where they lead back to themselves.
   */
  private readonly glyphResources: PdfRef;
  /** Bookmarks, page labels and record boundaries are written as their text (see pdf/structures.ts). */
  private readonly sink: ObjectSink;
  /**
   * Record boundaries, PDF/VT style (ISO 16612-2, PDF 2.0 DPart): one leaf per piece, naming its
   * first and last page and carrying its record's SHA-256, so a print file can be split or traced.
   */
  private readonly records: RecordParts;
  private readonly outline: Outline;
  /** First page index and label of each marked piece: written as a tree when the document ends. */
  private readonly labels: [number, string][] = [];
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly done: Promise<void>;
  private pieces = 0;
  private pageCount = 0;
  /** Media beyond the trim on each side: the bleed, and room for marks when there are marks. */
  private readonly margin: number;
  private readonly print: PrintSetup;
  private marksForm: PdfRef | null = null;
  /**
   * An imposed file's marks forms and their names in the shared resources, by the cells (slots) a
   * sheet fills: all but the last sheets' are one.
   */
  private readonly sheetMarks = new Map<string, { name: string; form: PdfRef }>();
  /** When imposing: the sheets, each piece as one form per page. */
  private readonly imposer: Imposer<PdfRef> | null;
  private cellForms = 0;
  private readonly tagger: Tagger | null;
  /** What the element kinds draw through (see Painter): this document's content, resources and fonts. */
  private readonly painter: Painter;
  /** The records' hashes, in order, when the document id is derived from them (see identify). */
  private recordHashes: Hash | null = null;

  constructor(
    private readonly geometry: PageGeometry,
    info: DocumentInfo,
    private readonly out: Writable,
    private readonly options: DocumentOptions = {},
  ) {
    installPdfkitPatches();
    const standard = options.print?.standard;
    const pdf = new PDFDocument({
      autoFirstPage: false,
      font: null as unknown as string, // no Helvetica: record text never uses the standard 14 fonts
      pdfVersion: standard ? PDF_VERSIONS[standard] : '1.7',
      ...(options.pdfa ? pdfaOptions(options.pdfa) : {}),
      compress: true,
      info: {
        Title: info.title,
        ...(options.created ? { CreationDate: options.created } : {}),
        Creator: 'Platen',
        Producer: 'Platen (pdfkit)',
      },
      ...(options.tagged ? { tagged: true, lang: options.tagged.lang, displayTitle: true } : {}),
    });
    this.doc = asDoc(pdf);
    const doc = this.doc;
    this.painter = {
      write: (ops) => doc.addContent(ops),
      rect: (x, y, w, h) => doc.rect(x, y, w, h),
      roundedRect: (x, y, w, h, radius) => doc.roundedRect(x, y, w, h, radius),
      ellipse: (cx, cy, rx, ry) => doc.ellipse(cx, cy, rx, ry),
      line: (x1, y1, x2, y2) => doc.moveTo(x1, y1).lineTo(x2, y2),
      image: (image, keepRgb) => this.placeImage(image, keepRgb),
      text: (item) => this.drawText(item),
      svg: (art) => drawSvg(doc, art),
    };
    this.tagger = options.tagged ? new Tagger(this.doc, options.tagged.tags) : null;
    if (options.tagged) identifyAsPdfUa(this.doc);
    this.resources = this.doc.ref({ ProcSet: ['PDF', 'Text', 'ImageB', 'ImageC', 'ImageI'] });
    this.glyphResources = this.doc.ref();
    this.sink = objectSink(this.doc);
    this.records = new RecordParts(this.sink);
    // The records' node is numbered before any page, where it has always been in the file.
    void this.records.parent;
    this.outline = new Outline(this.sink);
    const { trimWidth, trimHeight, bleed } = geometry;
    this.print = options.print ?? { marks: false, colorSpace: 'rgb', spots: [] };
    this.margin = bleed + (this.print.marks ? MARKS_MARGIN : 0);
    this.imposer = options.impose ? new Imposer(sheetLayout(geometry, options.impose)) : null;
    // An imposed file has marks per sheet instead of per piece.
    const print = this.imposer ? { ...this.print, marks: true } : this.print;
    setUpColor(this.doc, this.resources, print, options.pdfa ? 'GTS_PDFA1' : 'GTS_PDFX');
    if (options.pdfa) keepPressIntent(this.doc);
    // Every page has the same media and resources: the page tree's root holds them once (inherited).
    const pagesRoot = (this.doc._root.data.Pages as PdfRef).data;
    const m = this.margin;
    pagesRoot.MediaBox = (
      this.imposer
        ? [0, 0, this.imposer.layout.width, this.imposer.layout.height]
        : [0, 0, trimWidth + 2 * m, trimHeight + 2 * m]
    )
      .map(num)
      .map(Number);
    pagesRoot.Resources = this.resources;
    const custom = this.doc.info as Record<string, unknown>;
    custom.PlatenTemplate = info.templateId;
    custom.PlatenTemplateVersion = String(info.version);
    if (info.recordHash) custom.PlatenRecordSHA256 = info.recordHash;
    if (standard) this.identify(standard, info);

    this.done = new Promise<void>((resolve, reject) => {
      takeOutput(
        this.doc,
        (chunk) => this.push(chunk),
        () => {
          this.flush();
          out.end();
        },
      );
      out.on('error', reject);
      out.on('finish', resolve);
    });
    // A failed output is met by the next add() (roomIn) and thrown by end(), which awaits this:
    // until then its rejection is not one nobody handles.
    this.done.catch(() => undefined);
  }

  get pages(): number {
    return this.pageCount;
  }

  /**
   * Names the standard the file is written to, in its Info dictionary and (PDF 1.4 and later) its XMP
   * packet (see pdf/xmp.ts), with the dates, trapping and ids PDF/X asks for. The document id is
   * derived from the template and the records the file holds, so rendering the same records again
   * gives the same DocumentID; each rendering is its own instance (its creation time).
   */
  private identify(standard: PdfXStandard, info: DocumentInfo): void {
    const values = this.doc.info as Record<string, unknown>;
    const created = values.CreationDate as Date;
    values.ModDate = created;
    values.Trapped = new InfoName('False');
    if (standard === 'PDF/X-1a') {
      // ISO 15930-4 readers take the 2001 edition's identification, which a PDF 1.3 file carries.
      values.GTS_PDFXVersion = 'PDF/X-1:2001';
      values.GTS_PDFXConformance = 'PDF/X-1a:2001';
      return;
    }
    values.GTS_PDFXVersion = standard;
    const records = createHash('sha256');
    this.recordHashes = records;
    setXmpPacket(this.doc, () => {
      const documentId = uuidFrom(info.templateId, String(info.version), records.digest('hex'));
      return xmpPacket({
        title: info.title,
        producer: String(values.Producer),
        creatorTool: String(values.Creator),
        created,
        modified: created,
        documentId,
        instanceId: uuidFrom(documentId, created.toISOString()),
        pdfx: standard,
        pdfua: this.options.tagged !== undefined,
      });
    });
  }

  /**
   * Draws one piece; resolves when the output has room for more (backpressure). A print file's
   * pieces carry a marker: a bookmark to the piece's first page, and a page label (`12` for a
   * one-page piece, `12-1`, `12-2`… for more) so a press operator can find row 12.
   */
  async add(piece: FittedPiece): Promise<void> {
    this.pieces += 1;
    this.recordHashes?.update(`${piece.recordHash}\n`);
    if (this.imposer) {
      this.addSheets(this.imposer.add(piece.pages.map((items) => this.drawForm(items))));
      await roomIn(this.out);
      return;
    }
    const { marker } = piece;
    if (marker) this.labels.push([this.pageCount, pageLabel(marker.label, piece.pages.length)]);
    const part = this.sink.allocate();
    const partRef = refTo(part);
    let start = 0;
    let end: number | null = null;
    for (const [index, items] of piece.pages.entries()) {
      this.addPage();
      const page = this.doc.page.dictionary;
      page.data.DPart = partRef;
      if (index === 0) start = page.id;
      if (index === 0 && marker) this.bookmark(marker.title);
      if (index === piece.pages.length - 1 && index > 0) end = page.id;
      this.drawItems(items);
    }
    this.sink.write(part, recordPart(this.records.parent, piece.recordHash, start, end));
    this.records.add(part);
    await roomIn(this.out);
  }

  /** Ends the document; resolves once every byte is written to the output. */
  async end(): Promise<void> {
    if (this.imposer) this.addSheets(this.imposer.end());
    const { ProcSet, Font, ColorSpace } = this.resources.data;
    this.glyphResources.data = { ProcSet, ...(Font ? { Font } : {}), ...(ColorSpace ? { ColorSpace } : {}) };
    this.glyphResources.end();
    this.resources.end();
    const catalog = this.doc._root.data;
    const outline = this.outline.end();
    if (outline !== null) catalog.Outlines = refTo(outline);
    const tree = new PageLabels(this.sink);
    for (const [index, label] of this.labels) tree.add(index, label);
    const labels = tree.end();
    if (labels !== null) catalog.PageLabels = refTo(labels);
    // An imposed file's sheets hold several pieces: it keeps the (empty) node but names no records.
    const records = this.records.end(this.imposer ? null : 1);
    if (records !== null) catalog.DPartRoot = refTo(records);
    this.doc.end();
    await this.done;
  }

  // -------------------------------------------------------------------------------- output

  private push(chunk: Uint8Array): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_CHUNK) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    this.out.write(
      this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes),
    );
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  // ------------------------------------------------------------------------------ print marks

  /**
   * A bookmark to the current page, written as they come: an item is written as soon as the next one
   * exists (it needs its Next), so a million-piece file never holds a million outline items.
   */
  private bookmark(title: string): void {
    const parent = this.outline.parent;
    const item = this.sink.allocate();
    const head = `<<\n/Title ${pdfString(title)}\n/Parent ${parent} 0 R\n/Dest [${this.doc.page.dictionary.id} 0 R /Fit]\n>>`;
    this.outline.holdLast(item, this.outline.linkFirst(item, head, 1));
  }

  // ------------------------------------------------------------------------------------ pages

  private addPage(): void {
    const { trimWidth, trimHeight, bleed } = this.geometry;
    const m = this.margin;
    const width = trimWidth + 2 * m;
    const height = trimHeight + 2 * m;
    const dict = this.newPage(width, height);
    dict.BleedBox = [m - bleed, m - bleed, width - m + bleed, height - m + bleed].map(num).map(Number);
    dict.TrimBox = [m, m, m + trimWidth, m + trimHeight].map(num).map(Number);
    if (this.options.crop) dict.CropBox = this.options.crop === 'trim' ? dict.TrimBox : dict.BleedBox;
    // pdfkit's page space is y-down from the media corner; ours is y-down from the trim corner.
    if (m) this.doc.addContent(`1 0 0 1 ${num(m)} ${num(m)} cm`);
    if (this.print.marks) this.placeMarks();
  }

  /** A page with the document's shared media and resources; returns its dictionary. */
  private newPage(width: number, height: number): Record<string, unknown> {
    addSharedPage(this.doc, width, height, this.resources);
    this.pageCount += 1;
    const dict = this.doc.page.dictionary.data;
    // MediaBox and Resources are inherited from the page tree; UserUnit 1 is the default.
    delete dict.MediaBox;
    delete dict.Resources;
    delete dict.UserUnit;
    return dict;
  }

  /** Adds press sheets: each piece's page placed in its cell, the sheet's marks on every sheet. */
  private addSheets(sheets: Cell<PdfRef>[][]): void {
    const { layout } = this.imposer!;
    for (const cells of sheets) {
      const dict = this.newPage(layout.width, layout.height);
      dict.TrimBox = layout.trimBox;
      dict.BleedBox = layout.bleedBox;
      const placed = cells.map(({ form, x, y }) => {
        const name = `P${++this.cellForms}`;
        this.doc.page.xobjects[name] = form;
        return { name, x, y };
      });
      const marks = this.sheetMarksForm(cells.map((cell) => cell.slot));
      this.doc.page.xobjects[marks.name] = marks.form;
      this.doc.addContent(sheetContent(placed, marks.name));
    }
  }

  private sheetMarksForm(slots: number[]): { name: string; form: PdfRef } {
    const key = [...slots].sort().join(' ');
    let marks = this.sheetMarks.get(key);
    if (!marks) {
      const { layout } = this.imposer!;
      const form = this.formOf([0, 0, layout.width, layout.height], layout.marks(slots));
      marks = { name: `Marks${this.sheetMarks.size + 1}`, form };
      this.sheetMarks.set(key, marks);
    }
    return marks;
  }

  /** A form of marks: it paints with the registration colour alone. */
  private formOf(bbox: number[], content: string): PdfRef {
    const form = this.doc.ref({
      Type: 'XObject',
      Subtype: 'Form',
      BBox: bbox.map(num).map(Number),
      Resources: this.glyphResources,
    });
    form.end(content);
    return form;
  }

  /**
   * The marks are the same on every page: one Form XObject per document, in trim space. In a tagged
   * document they are a Page artifact, a production aid such as cut marks (ISO 32000-1, 14.8.2.2), which screen readers skip.
   */
  private placeMarks(): void {
    const { trimWidth, trimHeight } = this.geometry;
    const m = this.margin;
    this.marksForm ??= this.formOf([-m, -m, trimWidth + m, trimHeight + m], marksOps(this.geometry));
    this.doc.page.xobjects.Marks = this.marksForm;
    if (this.tagger) this.tagger.artifact('Page', () => this.doc.addContent('/Marks Do'));
    else this.doc.addContent('/Marks Do');
  }

  private drawItems(items: DrawItem[]): void {
    for (const item of items) {
      const tagger = this.tagger;
      // A tagged piece draws its static layers inline: each element needs its own tag.
      if (item.kind === 'static' && tagger) this.drawItems(item.items);
      else if (item.kind === 'static') this.placeForm(item);
      else if (tagger && item.kind === 'text')
        tagger.draw(item, () => this.drawItem(item), {
          all: item.lines,
          draw: (lines) => this.drawText({ ...item, lines }),
        });
      else if (tagger) tagger.draw(item, () => this.drawItem(item));
      else this.drawItem(item);
    }
  }

  private drawItem(item: ElementItem): void {
    kindOf(item.kind).draw?.(item, this.painter);
  }

  // ------------------------------------------------------------------------------------- text

  /**
   * Draws a text item, reusing what this document has drawn before: a line that recurs at the same
   * place, in the same face, size and colour, becomes a Form XObject the second time it is drawn and
   * is placed with a bare `Do` from then on. In a mail drop the variable words sit in a few lines, so
   * most of every paragraph is written once per document instead of once per page. (Reusing whole
   * runs of lines does not pay: mail-drop copy has too many distinct runs; docs/perf.md.)
   */
  private drawText(drawn: TextItem): void {
    // Small near-black text prints on black ink alone (see textInk).
    const ink = textInk(drawn.color, drawn.size);
    const item = ink === drawn.color ? drawn : { ...drawn, color: ink };
    const keys = this.keysOf(item);
    const ops: string[] = [];
    let inline: TextOps | null = null;
    item.lines.forEach((line, i) => {
      const key = keys[i]!;
      let form = this.lines.get(key);
      if (form === undefined) {
        this.remember(key);
        inline ??= new TextOps(item.color, item.size, (face) => this.font(face));
        inline.line(line, item.box.x, item.box.y + line.baseline);
        return;
      }
      if (inline) ops.push(inline.end());
      inline = null;
      if (form === null) {
        form = this.lineForm(item, line);
        this.lines.set(key, form);
      }
      this.doc.page.xobjects[form.name] = form.ref;
      ops.push(`/${form.name} Do`);
    });
    if (inline) ops.push((inline as TextOps).end());
    this.doc.addContent(ops.join('\n'));
  }

  private keysOf(item: TextItem): string[] {
    let last = this.lastKeys.get(item.name);
    if (last?.lines !== item.lines) {
      last = { lines: item.lines, keys: lineKeys(item) };
      this.lastKeys.set(item.name, last);
    }
    return last.keys;
  }

  private remember(key: string): void {
    if (this.lines.size < MAX_REMEMBERED_LINES && !this.lines.has(key)) this.lines.set(key, null);
  }

  private lineForm(item: TextItem, line: PlacedLine): { name: string; ref: PdfRef } {
    const { box, size } = item;
    const baseline = box.y + line.baseline;
    const ref = this.doc.ref({
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [box.x - 2 * size, baseline - 2 * size, box.x + box.w + 2 * size, baseline + size]
        .map(num)
        .map(Number),
      Resources: this.glyphResources,
    });
    ref.end(new TextOps(item.color, size, (face) => this.font(face)).line(line, box.x, baseline).end());
    return { name: `L${++this.lineForms}`, ref };
  }

  // ------------------------------------------------------------------------------------ fonts

  /** The document's embedded font for a face, registered on the current page (or form). */
  private font(face: FontFace): PdfEmbeddedFont {
    let font = this.fonts.get(face.key);
    if (!font) {
      // pdfkit 0.20 accepts a parsed fontkit font: the file is parsed once per process, not per document.
      this.doc.registerFont(face.key, face.font as never);
      this.doc.font(face.key);
      font = this.doc._font;
      // One layout cache per face for the whole process (see FontFace), bounded there.
      font.layoutCached = face.run;
      this.fonts.set(face.key, font);
    }
    this.doc.page.fonts[font.id] = font.ref();
    return font;
  }

  // ----------------------------------------------------------------------------------- images

  private imageRef(image: PreparedImage): PdfRef {
    let ref = this.images.get(image.sha256);
    if (!ref) {
      const dict: Record<string, unknown> = {
        Type: 'XObject',
        Subtype: 'Image',
        Width: image.width,
        Height: image.height,
        ColorSpace: image.colorSpace,
        BitsPerComponent: 8,
        Filter: image.filter,
        ...(image.decode ? { Decode: image.decode } : {}),
      };
      if (image.alpha) {
        const mask = this.doc.ref({
          Type: 'XObject',
          Subtype: 'Image',
          Width: image.width,
          Height: image.height,
          ColorSpace: 'DeviceGray',
          BitsPerComponent: 8,
          Filter: 'FlateDecode',
        });
        mask.end(image.alpha);
        dict.SMask = mask;
      }
      ref = this.doc.ref(dict);
      ref.end(image.data);
      this.images.set(image.sha256, ref);
    }
    return ref;
  }

  /** Registers an image (or its stand-in) on the current page or form and names it (see Painter.image). */
  private placeImage(
    original: PreparedImage,
    keepRgb: boolean,
  ): { name: string; width: number; height: number } {
    const image =
      this.options.imageVariants?.get(original) ??
      (this.print.colorSpace === 'cmyk' && !keepRgb
        ? cmykImageReady(original, this.print.standard === 'PDF/X-1a')
        : original);
    const name = `Im${image.sha256.slice(0, 12)}`;
    this.doc.page.xobjects[name] = this.imageRef(image);
    return { name, width: image.width, height: image.height };
  }

  // ------------------------------------------------------------------------------------ forms

  /** Places a static layer, drawing it into a Form XObject the first time this document needs it. */
  private placeForm(layer: StaticLayer): void {
    let form = this.forms.get(layer.id);
    if (!form) {
      form = this.drawForm(layer.items);
      this.forms.set(layer.id, form);
    }
    this.doc.page.xobjects[layer.id] = form;
    this.doc.addContent(`/${layer.id} Do`);
  }

  /**
   * Draws items (a static layer, or an imposed piece's page) into a Form XObject by standing the form
   * in for `doc.page` while pdfkit draws (there is no public API: pdfkit issues #680, #854). The form's
   * space is the page's trim space, clipped to the bleed, so a static layer is placed with a bare `Do`
   * in the page's own coordinate system and an imposed page with its cell's offset.
   */
  private drawForm(items: DrawItem[]): PdfRef {
    const { trimWidth, trimHeight, bleed } = this.geometry;
    const resources = this.resources;
    const form = this.doc.ref({
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [-bleed, -bleed, trimWidth + bleed, trimHeight + bleed].map(num).map(Number),
      Resources: resources,
    });
    // An imposed piece is drawn before its sheet exists: the stand-in then gets the trim's size.
    const page = this.doc.page as PdfPageLike | undefined;
    const ctm = this.doc._ctm;
    this.doc.page = formPage(
      form,
      resources,
      page ?? ({ width: trimWidth, height: trimHeight } as PdfPageLike),
    );
    this.doc._ctm = [1, 0, 0, 1, 0, 0];
    try {
      this.drawItems(items);
    } finally {
      this.doc.page = page!;
      this.doc._ctm = ctm;
    }
    form.end();
    return form;
  }
}

/** A stand-in for doc.page that collects content and resources into a Form XObject. */
function formPage(form: PdfRef, resources: PdfRef, page: PdfPageLike): PdfPageLike {
  const dict = (key: string) => {
    const data = resources.data;
    return (data[key] ??= {}) as Record<string, PdfRef>;
  };
  return {
    width: page.width,
    height: page.height,
    get fonts() {
      return dict('Font');
    },
    get xobjects() {
      return dict('XObject');
    },
    get ext_gstates() {
      return dict('ExtGState');
    },
    get patterns() {
      return dict('Pattern');
    },
    get colorSpaces() {
      return dict('ColorSpace');
    },
    write: (chunk) => form.write(chunk),
    dictionary: form,
    resources,
  };
}

/**
 * Identity of each line of an item: runs, faces, positions, size and colour. The key is the text
 * itself, not a digest of it: hashing every line of every piece took a measurable share of a batch
 * worker's time (docs/perf.md), and MAX_REMEMBERED_LINES bounds what the keys hold.
 */
function lineKeys(item: TextItem): string[] {
  const { color } = item;
  const ink = color.space === 'spot' ? `${color.spot.key}:` : color.space === 'cmyk' ? 'k:' : '';
  const style = `${item.size}|${ink}${color.values.join(',')}|${num(item.box.x)}|${num(item.box.y)}`;
  return item.lines.map((line) => {
    let key = `${style}|${num(line.baseline)}`;
    // The text's length keeps a run's text from passing for the runs after it.
    for (const run of line.runs) key += `|${run.face.key}:${num(run.x)}:${run.text.length}:${run.text}`;
    return key;
  });
}

/** Draws SVG art: replayed operators when it can be, else live (see svgOps). */
function drawSvg(doc: Doc, art: SvgArt): void {
  const ops = svgOps(art);
  if (ops !== null) doc.addContent(art.cmyk ? cmykOps(ops) : ops);
  else drawSvgLive(doc, art);
}

/** Only templates with SVG art need it: 125 kB of code that the module loader would scan at start-up. */
const svgToPdf = onFirstUse<typeof SVGtoPDF>('svg-to-pdfkit');

/** Draws SVG art with svg-to-pdfkit: parsed and converted on every call, which is slow (docs/perf.md). */
function drawSvgLive(doc: Doc, item: SvgArt): void {
  doc.save();
  svgToPdf()(doc as unknown as PDFKit.PDFDocument, item.svg, item.box.x, item.box.y, {
    width: item.box.w,
    height: item.box.h,
    preserveAspectRatio: 'xMidYMid meet',
    assumePt: false,
    // pdfkit reads any other string as a file name; art was checked to hold nothing else (checkSvg).
    imageCallback: (href: string) => embeddedImage(href) ?? '',
    documentCallback: () => '',
    warningCallback: () => undefined,
  });
  doc.restore();
}

/**
 * The content-stream operators of SVG art, converted once per process: most brand art is flat
 * paths and fills that need no resources, so its operators can be replayed into any document.
 * Null for art that needs resources (gradients, transparency, images), which is drawn live each time.
 */
const svgCache = new WeakMap<SvgArt, string | null>();
let scratch: Doc | null = null;

function svgOps(item: SvgArt): string | null {
  let ops = svgCache.get(item);
  if (ops === undefined) {
    scratch ??= asDoc(
      new PDFDocument({ autoFirstPage: false, font: null as unknown as string, compress: false }),
    );
    const content: string[] = [];
    const resources = scratch.ref({});
    const page = formPage(
      { write: (chunk: string | Uint8Array) => content.push(String(chunk)) } as unknown as PdfRef,
      resources,
      {
        width: item.box.x + item.box.w,
        height: item.box.y + item.box.h,
      } as PdfPageLike,
    );
    scratch.page = page;
    scratch._ctm = [1, 0, 0, 1, 0, 0];
    drawSvgLive(scratch, item);
    ops = replayable(resources.data) ? content.join('\n').replace(/\/Gs\d+ gs/g, '') : null;
    svgCache.set(item, ops);
  }
  return ops;
}

/** Whether SVG art needs resources (gradients, transparency, images) and so is drawn live, colours as written. */
export function svgDrawnLive(item: SvgArt): boolean {
  return svgOps(item) === null;
}

/**
 * Replayed SVG operators with their RGB colours (pdfkit writes `/DeviceRGB cs r g b scn`) converted
 * to CMYK (`c m y k k`) through the output profile: flat art in a CMYK document. Art that cannot be
 * replayed (gradients, transparency) is drawn live and stays RGB; preflight reports it.
 */
function cmykOps(ops: string): string {
  return ops.replace(
    /\/DeviceRGB (cs|CS)\s+(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (?:scn|SCN)/g,
    (_, op: string, r: string, g: string, b: string) =>
      `${rgbToCmyk([Number(r), Number(g), Number(b)])
        .map(num)
        .join(' ')} ${op === 'cs' ? 'k' : 'K'}`,
  );
}

/**
 * Whether art drawn with these resources can be replayed as bare operators: none at all, or only the
 * fully opaque graphics states svg-to-pdfkit sets on every shape (`ca`, `CA` of 1: the default).
 */
function replayable(resources: Record<string, unknown>): boolean {
  return Object.entries(resources).every(
    ([kind, entries]) =>
      kind === 'ExtGState' &&
      Object.values(entries as Record<string, PdfRef>).every(({ data: { Type, ca, CA, ...other } }) => {
        return Type === 'ExtGState' && (ca ?? 1) === 1 && (CA ?? 1) === 1 && Object.keys(other).length === 0;
      }),
  );
}
