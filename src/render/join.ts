import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { roomIn } from '../files.js';
import type { PdfFile } from '../pdf/reader.js';
import { type ObjectSink, Outline, PageLabels, RecordParts } from '../pdf/structures.js';
import { type Dict, num, optionalRef, rawOf, refOf, refsIn, renumberRefs, serialize } from '../pdf/syntax.js';
import type { PageGeometry } from '../model/geometry.js';
import { type Cell, Imposer, type SheetLayout, sheetContent } from '../pdf/impose.js';
import { REGISTRATION } from '../pdf/marks.js';
import { readXmpPacket, uuidFrom, type XmpFields, xmpPacket } from '../pdf/xmp.js';
import {
  imageKey,
  labelsOf,
  type PartSurvey,
  readPart,
  type RelocatedPart,
  relocatePart,
  type RelocationPlan,
  STITCHED,
  surveyPart,
} from './relocate.js';

/**
 * Joins print-file parts into one PDF, streaming. A mail drop is drawn in parallel, each worker
 * writing contiguous rows into a part: a whole PDF from PieceDocument. Parts are appended here in row
 * order, their objects renumbered and their structures stitched together:
 * - pages: each part's page-tree root becomes a child of one root (MediaBox and Resources stay
 *   inherited from it);
 * - bookmarks: one flat list, the parts' chains linked end to end;
 * - page labels: one number tree, page indexes offset by the pages before;
 * - record boundaries: each part's DPart node becomes a child of one DPart root node, so records sit
 *   at level 2 of the tree;
 * - an image an earlier part wrote (same bytes) is referenced, not written again.
 * Fonts and static art are written once per part: parts are large enough (see chunkSize in jobs/batch.ts) for
 * that to cost little per row. Memory holds one part and a number per object written.
 *
 * The work per object (reading a part, renumbering its references, writing its text) need not be
 * this thread's: a part's place is planned in row order (plan: a range of object numbers, the images
 * to reuse), it is relocated anywhere (relocatePart in relocate.ts, on the pool's threads in a drop),
 * and relocated parts are placed here in the same order (place), which is little more than copying
 * bytes. append does all three here. docs/perf.md has the joining thread's CPU per row either way.
 *
 * Imposed (see pdf/impose.ts), the parts' pages are not kept as pages: each becomes a Form XObject placed
 * in its cell of a press sheet, pieces stepped and repeated in row order across part boundaries (so
 * only the last sheet can have empty cells), with crop marks per sheet. Like PieceDocument's imposed
 * files, the result has no bookmarks, page labels or DParts: a sheet holds several pieces. Parts to
 * impose are drawn without marks of their own.
 *
 * It joins only PieceDocument's output: objects are copied as pdfkit wrote them (newlines escaped
 * inside strings, so references are found in their text), only the structures above are parsed.
 */
/** Press sheets for the pieces of a template with this page geometry. */
export interface Imposition {
  layout: SheetLayout;
  geometry: PageGeometry;
}

export class PdfJoiner {
  private offset = 0;
  /** Text written but not yet handed to the output: see write(). */
  private pending = '';
  /** Byte offset of every object written, by its number in the joined file (0: none, a free entry). */
  private readonly offsets = new Offsets();
  private readonly pageTree: number;
  private readonly pageNodes: number[] = [];
  private pageCount = 0;
  /** From the first part: its catalog (renumbered entries to copy), Info and file ID. */
  private first: { catalog: [string, string][]; info: string | null; id: string | null } | null = null;
  /** Whether a part has been planned: the first brings the catalog's other entries (see plan). */
  private planned = false;
  private readonly outline: Outline;
  private readonly labels: PageLabels;
  private readonly records: RecordParts;
  /** Images written, by content: the same art or photo in a later part is referenced, not copied. */
  private readonly images = new Map<string, number>();
  private readonly sheets: Sheets | null;
  /**
   * The file's XMP packet: the first part's, as it is; or, when parts carry the identification
   * xmp.ts writes (a PDF/X file), their fields, the document id to be derived from all parts'.
   */
  private metadata: { packet: string } | { fields: XmpFields; parts: Hash } | null = null;

  constructor(
    private readonly out: Writable,
    options: { impose?: Imposition } = {},
  ) {
    this.pageTree = this.allocate();
    const sink: ObjectSink = {
      allocate: () => this.allocate(),
      write: (n, head) => this.writeObject(n, head),
    };
    this.outline = new Outline(sink);
    this.labels = new PageLabels(sink);
    this.records = new RecordParts(sink);
    this.sheets = options.impose
      ? new Sheets(options.impose.layout, options.impose.geometry, this.pageTree, () => this.allocate())
      : null;
  }

  get pages(): number {
    return this.pageCount;
  }

  /** Appends one part, a whole PDF; resolves when the output has room for more. */
  async append(pdf: Buffer): Promise<void> {
    const part = readPart(pdf);
    if (this.sheets) return this.impose(part);
    const plan = this.plan(surveyPart(part));
    await this.place(relocatePart(part, plan), plan);
  }

  /**
   * Where the next part goes (parts are planned in row order): its range of object numbers, and
   * which of its images an earlier part wrote. Its relocation (relocatePart) can then run anywhere;
   * relocated parts are placed in the order they were planned.
   */
  plan(survey: PartSurvey): RelocationPlan {
    if (this.sheets) throw new Error('imposed parts are appended whole');
    const base = this.offsets.reserve(survey.objects);
    const reuse: [number, number][] = [];
    for (const [n, key] of survey.images) {
      const seen = this.images.get(key);
      if (seen !== undefined) reuse.push([n, seen]);
      else if (this.images.size < MAX_IMAGES) this.images.set(key, base + n - 1);
    }
    const first = !this.planned;
    this.planned = true;
    return {
      base,
      reuse,
      first,
      pageTree: this.pageTree,
      outline: survey.outline ? this.outline.parent : 0,
      records: survey.records ? this.records.parent : 0,
    };
  }

  /** Appends a relocated part, planned last but those placed already; resolves when the output has room. */
  async place(part: RelocatedPart, plan: RelocationPlan): Promise<void> {
    if (part.first) {
      this.write(part.first.header);
      this.first = { catalog: part.first.catalog, info: part.first.info, id: part.first.id };
    }
    this.readMetadata(part.packet, part.first !== null);
    this.flush();
    const at = this.offset;
    const { offsets } = part;
    for (let k = 0; k < offsets.length; k++)
      if (offsets[k]! >= 0) this.offsets.set(plan.base + k, at + offsets[k]!);
    const bytes = Buffer.from(part.bytes.buffer, part.bytes.byteOffset, part.bytes.byteLength);
    this.offset += bytes.length;
    this.out.write(bytes);
    // The part's bookmarks join the run before; its last waits for the next run's first.
    if (part.outline) {
      const { count, first, last } = part.outline;
      const head = this.outline.linkFirst(first[0], first[1], count);
      if (first[0] === last[0]) this.outline.holdLast(first[0], head);
      else {
        this.writeObject(first[0], head);
        this.outline.holdLast(last[0], last[1]);
      }
    }
    for (const [index, label] of part.labels) this.labels.add(this.pageCount + index, label);
    this.pageNodes.push(part.pages);
    this.pageCount += part.pageCount;
    if (part.records !== null) this.records.add(part.records);
    await roomIn(this.out);
  }

  /**
   * Reads a part's XMP packet: the first part's is the file's; every part's document id goes into
   * the file's, so the same rows joined again give the same id.
   */
  private readMetadata(packet: string | null, first: boolean): void {
    const fields = packet === null ? null : readXmpPacket(packet);
    if (first && packet !== null)
      this.metadata = fields ? { fields, parts: createHash('sha256') } : { packet };
    if (this.metadata && 'parts' in this.metadata) this.metadata.parts.update(`${fields?.documentId}\n`);
  }

  /**
   * The file's XMP packet: a PDF/X-4 drop's names PDF/VT-1 too (ISO 16612-2), with the id of
   * the whole drop; null when the parts had none.
   */
  private packet(): string | null {
    const metadata = this.metadata;
    if (metadata === null) return null;
    if ('packet' in metadata) return metadata.packet;
    const { fields, parts } = metadata;
    const documentId = uuidFrom(parts.digest('hex'));
    return xmpPacket({
      ...fields,
      documentId,
      instanceId: uuidFrom(documentId, fields.created.toISOString()),
      ...(fields.pdfx === 'PDF/X-4' && !this.sheets ? { pdfvt: true } : {}),
    });
  }

  /**
   * Numbers in the joined file for the objects of an imposed part to keep: new ones for objects to
   * write (`fresh`), an earlier part's for an image already written.
   */
  private renumbered(part: PdfFile, keep: number[]) {
    const renumber = new Map<number, number>();
    const fresh: number[] = [];
    for (const n of keep) {
      const image = imageKey(part, n);
      const seen = image === null ? undefined : this.images.get(image);
      if (seen !== undefined) {
        renumber.set(n, seen);
        continue;
      }
      const to = this.allocate();
      renumber.set(n, to);
      fresh.push(n);
      if (image !== null && this.images.size < MAX_IMAGES) this.images.set(image, to);
    }
    const to = (n: number): number => {
      const mapped = renumber.get(n);
      if (mapped === undefined) throw new Error(`part refers to object ${n}, which it does not hold`);
      return mapped;
    };
    return { to, fresh };
  }

  /** What the first part brings besides pages: the catalog's other entries and the Info dictionary. */
  private firstRefs(part: PdfFile, catalog: Dict): number[] {
    if (this.first !== null) return [];
    const refs = [...catalog].flatMap(([key, value]) => (STITCHED.has(key) ? [] : refsIn(value)));
    return refs.concat(refsIn(part.trailer.get('Info')));
  }

  /** The first part's catalog entries (other than those stitched), Info and file ID are the file's. */
  private rememberFirst(part: PdfFile, catalog: Dict, map: (n: number) => number): void {
    if (this.first !== null) return;
    const info = part.trailer.get('Info');
    const id = part.trailer.get('ID');
    this.first = {
      catalog: [...catalog].flatMap(([key, value]) =>
        STITCHED.has(key) ? [] : [[key, serialize(value, map)] as [string, string]],
      ),
      info: info === undefined ? null : serialize(info, map),
      id: id === undefined ? null : serialize(id, map),
    };
  }

  /**
   * Appends an imposed part: its pages' content streams become forms (with the part's resources),
   * everything they use is written, and pieces (from the page labels) fill the sheets.
   */
  private async impose(part: PdfFile): Promise<void> {
    if (this.offset === 0) this.write(part.bytes.subarray(0, part.headerEnd));
    const catalog = part.dict(refOf(part.trailer.get('Root')));
    const labels = optionalRef(catalog.get('PageLabels'));
    const metadata = optionalRef(catalog.get('Metadata'));
    const packet = metadata === null ? null : part.decoded(part.objects.get(metadata)!).toString('utf8');
    this.readMetadata(packet, this.first === null);
    const tree = part.dict(refOf(catalog.get('Pages')));
    const kids = tree.get('Kids');
    if (!Array.isArray(kids) || labels === null) throw new Error('not a print-file part: no pages or labels');
    const contents = kids.map((kid) => refOf(part.dict(refOf(kid)).get('Contents')));
    const from = [...refsIn(tree.get('Resources')), ...contents, ...this.firstRefs(part, catalog)];
    const map = this.renumbered(part, part.reachable(from));
    const media = tree.get('MediaBox');
    const bbox = Array.isArray(media) ? media.map((v) => Number(rawOf(v))) : [];
    const form = `/Type /XObject\n/Subtype /Form\n/BBox [${bbox.map(num).join(' ')}]\n/Resources ${serialize(tree.get('Resources')!, map.to)}\n`;
    const isContent = new Set(contents);
    for (const n of map.fresh) {
      const object = part.objects.get(n)!;
      let head = renumberRefs(object.head, map.to);
      if (isContent.has(n)) head = head.replace('<<\n', `<<\n${form}`);
      this.writeObject(map.to(n), head, object.stream && part.data(object));
      await roomIn(this.out);
    }
    // A piece's pages start at its label; the media is the trim with the same margin on every side.
    const margin = (bbox[2]! - this.sheets!.geometry.trimWidth) / 2;
    const starts = labelsOf(part, labels).map(([index]) => index);
    for (const [i, start] of starts.entries()) {
      const forms = contents.slice(start, starts[i + 1] ?? contents.length).map(map.to);
      for (const [n, head, stream] of this.sheets!.add(forms, margin)) this.writeObject(n, head, stream);
    }
    this.rememberFirst(part, catalog, map.to);
  }

  /** Writes the joined file's own structures, the xref table and the trailer; ends the output. */
  async end(): Promise<void> {
    if (this.first === null) throw new Error('no parts to join');
    if (this.sheets) {
      for (const [n, head, stream] of this.sheets.end()) this.writeObject(n, head, stream);
      this.pageNodes.push(...this.sheets.nodes);
      this.pageCount = this.sheets.count;
    }
    const catalog = [`/Type /Catalog`, `/Pages ${this.pageTree} 0 R`];
    for (const [key, value] of this.first.catalog) catalog.push(`/${key} ${value}`);
    const labels = this.labels.end();
    if (labels !== null) catalog.push(`/PageLabels ${labels} 0 R`);
    const outline = this.outline.end();
    if (outline !== null) catalog.push(`/Outlines ${outline} 0 R`);
    // Each part's node of records becomes a child of one node: records sit at level 2.
    const records = this.records.end(2);
    if (records !== null) catalog.push(`/DPartRoot ${records} 0 R`);
    const packet = this.packet();
    if (packet !== null) {
      const metadata = this.allocate();
      // XMP stays uncompressed, so tools that do not parse PDF can find it (ISO 16684-1).
      const [n, head, data] = stream(metadata, '/Type /Metadata\n/Subtype /XML', packet, 'utf8');
      this.writeObject(n, head, data);
      catalog.push(`/Metadata ${metadata} 0 R`);
    }
    this.writeObject(
      this.pageTree,
      `<<\n/Type /Pages\n/Count ${this.pageCount}\n/Kids [${this.pageNodes.map((n) => `${n} 0 R`).join(' ')}]\n>>`,
    );
    const root = this.allocate();
    this.writeObject(root, `<<\n${catalog.join('\n')}\n>>`);

    const xref = this.offset;
    await this.writeXref();
    const trailer = [`/Size ${this.offsets.length}`, `/Root ${root} 0 R`];
    if (this.first.info !== null) trailer.push(`/Info ${this.first.info}`);
    if (this.first.id !== null) trailer.push(`/ID ${this.first.id}`);
    this.write(`trailer\n<<\n${trailer.join('\n')}\n>>\nstartxref\n${xref}\n%%EOF\n`);
    this.flush();
    this.out.end();
    await finished(this.out);
  }

  private allocate(): number {
    return this.offsets.add();
  }

  /**
   * The cross-reference table. Numbers no object took (the parts' own catalogs and roots, images an
   * earlier part wrote) are free entries, linked from entry 0 in order (ISO 32000-1, 7.5.4). Written
   * in blocks of text laid out by hand: a drop has millions of entries, the joining thread writes them.
   */
  private async writeXref(): Promise<void> {
    const { offsets } = this;
    const size = offsets.length;
    // Each free entry (offset 0) gets the next free number, as its negative.
    let next = 0;
    for (let n = size - 1; n >= 1; n--) {
      if (offsets.get(n) > 0) continue;
      offsets.set(n, -next);
      next = n;
    }
    this.write(`xref\n0 ${size}\n${digits(next)} 65535 f \n`);
    this.flush();
    for (let from = 1; from < size; from += OFFSET_BLOCK) {
      const to = Math.min(size, from + OFFSET_BLOCK);
      const block = Buffer.allocUnsafe((to - from) * 20);
      for (let n = from, at = 0; n < to; n++, at += 20) {
        const offset = offsets.get(n);
        block.write(
          offset > 0 ? `${digits(offset)} 00000 n \n` : `${digits(-offset)} 00001 f \n`,
          at,
          'latin1',
        );
      }
      this.out.write(block);
      this.offset += block.length;
      await roomIn(this.out);
    }
  }

  private writeObject(n: number, head: string, stream?: Buffer | null): void {
    this.offsets.set(n, this.offset);
    if (stream) {
      this.write(`${n} 0 obj\n${head}\nstream\n`);
      this.write(stream);
      this.write('\nendstream\nendobj\n');
    } else {
      this.write(`${n} 0 obj\n${head}\nendobj\n`);
    }
  }

  /**
   * Writes through a batch: a part has tens of thousands of small objects, and a Buffer and a
   * write request for each of their pieces were most of what the joiner allocated. Text (and small
   * streams, as latin1) gathers in `pending` and goes out in blocks; large streams go as they are.
   */
  private write(chunk: string | Buffer): void {
    this.offset += chunk.length;
    if (typeof chunk === 'string' || chunk.length < WRITE_BATCH / 8) {
      this.pending += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      if (this.pending.length >= WRITE_BATCH) this.flush();
    } else {
      this.flush();
      this.out.write(chunk);
    }
  }

  private flush(): void {
    if (this.pending === '') return;
    this.out.write(Buffer.from(this.pending, 'latin1'));
    this.pending = '';
  }
}

/**
 * Byte offset of each object, by number (0 is the xref's free head), in fixed blocks off the JS heap.
 * A drop of 100,000 mailers has over four million objects: as one array they are copied each time it
 * grows, and their size raises the heap V8 lets the joiner's garbage fill before it collects.
 */
class Offsets {
  private readonly blocks = [new Float64Array(OFFSET_BLOCK)];
  length = 1;

  /** A new entry, its offset not yet known; its number. */
  add(): number {
    if (this.length % OFFSET_BLOCK === 0) this.blocks.push(new Float64Array(OFFSET_BLOCK));
    return this.length++;
  }

  /** `count` new entries in a row; the first one's number. */
  reserve(count: number): number {
    const first = this.length;
    this.length += count;
    while (this.blocks.length * OFFSET_BLOCK < this.length) this.blocks.push(new Float64Array(OFFSET_BLOCK));
    return first;
  }

  get(n: number): number {
    return this.blocks[Math.floor(n / OFFSET_BLOCK)]![n % OFFSET_BLOCK]!;
  }

  set(n: number, offset: number): void {
    this.blocks[Math.floor(n / OFFSET_BLOCK)]![n % OFFSET_BLOCK] = offset;
  }
}
const OFFSET_BLOCK = 1 << 16;
/** Bytes gathered before they are written. */
const WRITE_BATCH = 64 * 1024;

/** A number as a cross-reference entry's ten digits. */
function digits(n: number): string {
  return String(n).padStart(10, '0');
}
/** Distinct images remembered for reuse across parts (photos chosen per row can be many). */
const MAX_IMAGES = 10_000;
/** Entries per array or number-tree leaf: within PDF's customary 8,191-element limit. */
const TREE_CHUNK = 4096;

/** An object for the joined file: its number, head and stream. */
type NewObject = [number, string, Buffer | null];

/**
 * Press sheets as pieces come: each piece's pages (forms) in the next cell, a sheet per page of the
 * group (backs mirrored, see pdf/impose.ts), a marks form for each way sheets are filled, and sheets under page-tree
 * nodes of TREE_CHUNK written as they fill.
 */
class Sheets {
  private readonly imposer: Imposer<{ form: number; margin: number }>;
  /** Marks forms by the cells (slots) a sheet fills: all but the last sheets' are one. */
  private readonly marks = new Map<string, number>();
  private node: { ref: number; kids: number[] } | null = null;
  readonly nodes: number[] = [];
  count = 0;

  constructor(
    private readonly layout: SheetLayout,
    readonly geometry: PageGeometry,
    private readonly tree: number,
    private readonly allocate: () => number,
  ) {
    this.imposer = new Imposer(layout);
  }

  /** Adds a piece's pages (forms, placed `margin` beyond their trim); the objects of any sheets it completes. */
  add(forms: number[], margin: number): NewObject[] {
    return this.write(this.imposer.add(forms.map((form) => ({ form, margin }))));
  }

  /** The last sheets, however full, and the last page-tree node. */
  end(): NewObject[] {
    const objects = this.write(this.imposer.end());
    if (this.node) objects.push(this.closeNode());
    return objects;
  }

  private write(sheets: Cell<{ form: number; margin: number }>[][]): NewObject[] {
    const objects: NewObject[] = [];
    const { height, trimBox, bleedBox } = this.layout;
    const boxes = `/TrimBox [${trimBox.map(num).join(' ')}]\n/BleedBox [${bleedBox.map(num).join(' ')}]`;
    for (const cells of sheets) {
      const marks = this.marksForm(
        cells.map((cell) => cell.slot),
        objects,
      );
      const names = cells.map(({ index, form }) => `/P${index} ${form.form} 0 R`);
      // The cell's trim corner is y down from the sheet's top; the form's origin is its media corner.
      const placed = cells.map(({ index, form: { margin }, x, y }) => ({
        name: `P${index}`,
        x: x - margin,
        y: height - y - this.geometry.trimHeight - margin,
      }));
      if (this.node === null) this.node = { ref: this.allocate(), kids: [] };
      const page = this.allocate();
      const content = this.allocate();
      objects.push(
        [
          page,
          `<<\n/Type /Page\n/Parent ${this.node.ref} 0 R\n${boxes}\n/Resources << /XObject << ${names.join(' ')} /Marks ${marks} 0 R >> >>\n/Contents ${content} 0 R\n>>`,
          null,
        ],
        stream(content, '', sheetContent(placed, 'Marks')),
      );
      this.node.kids.push(page);
      this.count += 1;
      if (this.node.kids.length === TREE_CHUNK) objects.push(this.closeNode());
    }
    return objects;
  }

  /** The marks form for a sheet filling these cells; a new one is added to `objects`. */
  private marksForm(slots: number[], objects: NewObject[]): number {
    const key = [...slots].sort().join(' ');
    let form = this.marks.get(key);
    if (form === undefined) {
      const { width, height } = this.layout;
      form = this.allocate();
      this.marks.set(key, form);
      objects.push(
        stream(
          form,
          `/Type /XObject\n/Subtype /Form\n/BBox [0 0 ${num(width)} ${num(height)}]\n/Resources << /ColorSpace << /${REGISTRATION} ${REGISTRATION_SPACE} >> >>`,
          `1 0 0 -1 0 ${num(height)} cm\n${this.layout.marks(slots)}`,
        ),
      );
    }
    return form;
  }

  private closeNode(): NewObject {
    const { ref, kids } = this.node!;
    this.node = null;
    this.nodes.push(ref);
    const { width, height } = this.layout;
    return [
      ref,
      `<<\n/Type /Pages\n/Parent ${this.tree} 0 R\n/MediaBox [0 0 ${num(width)} ${num(height)}]\n/Count ${kids.length}\n/Kids [${kids.map((n) => `${n} 0 R`).join(' ')}]\n>>`,
      null,
    ];
  }
}

/** The registration colour (every ink at 100 %) that sheet marks are drawn in, as color.ts writes it. */
const REGISTRATION_SPACE =
  '[/Separation /All /DeviceCMYK << /FunctionType 2 /Domain [0 1] /C0 [0 0 0 0] /C1 [1 1 1 1] /N 1 >>]';

/** An uncompressed stream object (sheets' content is a few short lines; XMP is never compressed). */
function stream(n: number, entries: string, content: string, encoding: BufferEncoding = 'latin1'): NewObject {
  const data = Buffer.from(content, encoding);
  return [n, `<<\n${entries ? `${entries}\n` : ''}/Length ${data.length}\n>>`, data];
}
