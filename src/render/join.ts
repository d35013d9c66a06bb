import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { roomIn } from '../files.js';
import type { PageGeometry } from '../model/geometry.js';
import { num, REGISTRATION } from './color.js';
import type { SheetLayout } from './impose.js';

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
 * Fonts and static art are written once per part: parts are large enough (see jobs/chunks.ts) for
 * that to cost little per row. Memory holds one part and a number per object written.
 *
 * Imposed (see impose.ts), the parts' pages are not kept as pages: each becomes a Form XObject placed
 * in its cell of a press sheet, pieces stepped and repeated in row order across part boundaries (so
 * only the last sheet can have empty cells), with crop marks per sheet. Like PieceDocument's imposed
 * files, the result has no bookmarks, page labels or DParts: a sheet holds several pieces. Parts to
 * impose are drawn without marks of their own.
 *
 * This reads only PieceDocument's output, which pdfkit writes in a fixed layout (each object
 * `N 0 obj\n…\nendobj\n`, a stream's data between `\nstream\n` and `\nendstream`, newlines escaped
 * inside strings, one classic xref table); it is not a general PDF parser.
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
  /** Byte offset of every object written, by its number in the joined file. */
  private readonly offsets = new Offsets();
  private readonly pageTree: number;
  private readonly pageNodes: number[] = [];
  private pageCount = 0;
  /** From the first part: its catalog (renumbered entries to copy), Info and file ID. */
  private first: { catalog: [string, string][]; info: string | null; id: string | null } | null = null;
  private outline: {
    root: number;
    first: number;
    count: number;
    /** The last bookmark so far, held back until it gets its Next. */
    last: { number: number; head: string };
  } | null = null;
  private dparts: { root: number; nodes: number[] } | null = null;
  private readonly labels: LabelTree;
  /** Images written, by content: the same art or photo in a later part is referenced, not copied. */
  private readonly images = new Map<string, number>();
  private readonly sheets: Sheets | null;

  constructor(
    private readonly out: Writable,
    options: { impose?: Imposition } = {},
  ) {
    this.pageTree = this.allocate();
    this.labels = new LabelTree((head) => {
      const n = this.allocate();
      this.writeObject(n, head);
      return n;
    });
    this.sheets = options.impose
      ? new Sheets(options.impose.layout, options.impose.geometry, this.pageTree, () => this.allocate())
      : null;
  }

  get pages(): number {
    return this.pageCount;
  }

  /** Appends one part, a whole PDF; resolves when the output has room for more. */
  async append(pdf: Buffer): Promise<void> {
    const part = new Part(pdf);
    if (this.offset === 0) this.write(pdf.subarray(0, part.headerEnd));
    const root = refOf(part.trailer.get('Root'));
    const catalog = part.dict(root);
    const pages = refOf(catalog.get('Pages'));
    const outlines = optionalRef(catalog.get('Outlines'));
    const labels = optionalRef(catalog.get('PageLabels'));
    const dpartRoot = optionalRef(catalog.get('DPartRoot'));
    const dpartNode = dpartRoot === null ? null : refOf(part.dict(dpartRoot).get('DPartRootNode'));
    if (this.sheets) return this.impose(part, pdf, catalog, pages, labels);

    // What this part brings: its pages and everything they, their bookmarks and their record
    // boundaries use; the first part also the catalog's other entries and the Info dictionary.
    const consumed = new Set([root, ...(labels === null ? [] : part.reachable([labels]))]);
    if (outlines !== null) consumed.add(outlines);
    if (dpartRoot !== null) consumed.add(dpartRoot);
    const from = [pages, ...(dpartNode === null ? [] : [dpartNode])];
    if (outlines !== null) from.push(...refsIn(part.dict(outlines)));
    from.push(...this.firstRefs(part, catalog));
    const { to: map, fresh, renumber } = this.renumbered(part, part.reachable(from, consumed));

    // The part's outline root merges into the joined one: its items' Parent entries point there.
    let items: { first: number; last: number } | null = null;
    if (outlines !== null) {
      const tree = part.dict(outlines);
      items = { first: refOf(tree.get('First')), last: refOf(tree.get('Last')) };
      const count = Number(rawOf(tree.get('Count')));
      if (this.outline === null) {
        this.outline = {
          root: this.allocate(),
          first: map(items.first),
          count,
          last: { number: 0, head: '' },
        };
      } else {
        this.outline.count += count;
      }
      renumber.set(outlines, this.outline.root);
    }
    if (dpartNode !== null) this.dparts ??= { root: this.allocate(), nodes: [] };

    for (const n of fresh) {
      const object = part.objects.get(n)!;
      let head = renumberRefs(object.head, map);
      if (n === pages) head = withEntry(head, 'Parent', this.pageTree);
      if (n === dpartNode) head = withEntry(head, 'Parent', this.dparts!.root);
      if (items && n === items.first && this.outline!.last.number !== 0) {
        const previous = this.outline!.last;
        head = withEntry(head, 'Prev', previous.number);
        this.writeObject(previous.number, withEntry(previous.head, 'Next', map(n)));
      }
      if (items && n === items.last) {
        this.outline!.last = { number: map(n), head };
        continue;
      }
      this.writeObject(map(n), head, object.stream && pdf.subarray(object.stream[0], object.stream[1]));
      await roomIn(this.out);
    }

    if (labels !== null)
      for (const [index, label] of part.labels(labels)) this.labels.add(this.pageCount + index, label);
    this.pageNodes.push(map(pages));
    this.pageCount += Number(rawOf(part.dict(pages).get('Count')));
    if (dpartNode !== null) this.dparts!.nodes.push(map(dpartNode));
    this.rememberFirst(part, catalog, map);
  }

  /**
   * Numbers in the joined file for the objects of a part to keep: new ones for objects to write
   * (`fresh`), an earlier part's for an image already written.
   */
  private renumbered(part: Part, keep: number[]) {
    const renumber = new Map<number, number>();
    const fresh: number[] = [];
    for (const n of keep) {
      const image = part.imageKey(n);
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
    return { to, fresh, renumber };
  }

  /** What the first part brings besides pages: the catalog's other entries and the Info dictionary. */
  private firstRefs(part: Part, catalog: Dict): number[] {
    if (this.first !== null) return [];
    const refs = [...catalog].flatMap(([key, value]) => (STITCHED.has(key) ? [] : refsIn(value)));
    return refs.concat(refsIn(part.trailer.get('Info')));
  }

  /** The first part's catalog entries (other than those stitched), Info and file ID are the file's. */
  private rememberFirst(part: Part, catalog: Dict, map: (n: number) => number): void {
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
  private async impose(
    part: Part,
    pdf: Buffer,
    catalog: Dict,
    pages: number,
    labels: number | null,
  ): Promise<void> {
    const tree = part.dict(pages);
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
      this.writeObject(map.to(n), head, object.stream && pdf.subarray(object.stream[0], object.stream[1]));
      await roomIn(this.out);
    }
    // A piece's pages start at its label; the media is the trim with the same margin on every side.
    const margin = (bbox[2]! - this.sheets!.geometry.trimWidth) / 2;
    const starts = part.labels(labels).map(([index]) => index);
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
    if (this.outline) {
      const { root, first, count, last } = this.outline;
      this.writeObject(last.number, last.head);
      this.writeObject(
        root,
        `<<\n/Type /Outlines\n/First ${first} 0 R\n/Last ${last.number} 0 R\n/Count ${count}\n>>`,
      );
      catalog.push(`/Outlines ${root} 0 R`);
    }
    if (this.dparts) {
      const { root, nodes } = this.dparts;
      this.writeObject(root, `<<\n/Type /DPart\n/DParts ${refArrays(nodes)}\n>>`);
      const dpartRoot = this.allocate();
      this.writeObject(dpartRoot, `<<\n/Type /DPartRoot\n/DPartRootNode ${root} 0 R\n/RecordLevel 2\n>>`);
      catalog.push(`/DPartRoot ${dpartRoot} 0 R`);
    }
    this.writeObject(
      this.pageTree,
      `<<\n/Type /Pages\n/Count ${this.pageCount}\n/Kids [${this.pageNodes.map((n) => `${n} 0 R`).join(' ')}]\n>>`,
    );
    const root = this.allocate();
    this.writeObject(root, `<<\n${catalog.join('\n')}\n>>`);

    const xref = this.offset;
    this.write(`xref\n0 ${this.offsets.length}\n0000000000 65535 f \n`);
    for (let n = 1; n < this.offsets.length; n++) {
      this.write(`${String(this.offsets.get(n)).padStart(10, '0')} 00000 n \n`);
      await roomIn(this.out);
    }
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

/** Catalog entries the joiner builds itself from every part's. */
const STITCHED = new Set(['Type', 'Pages', 'Outlines', 'PageLabels', 'DPartRoot']);
/** Distinct images remembered for reuse across parts (photos chosen per row can be many). */
const MAX_IMAGES = 10_000;
/** Entries per array or number-tree leaf: within PDF's customary 8,191-element limit. */
const TREE_CHUNK = 4096;

/** An object for the joined file: its number, head and stream. */
type NewObject = [number, string, Buffer | null];

/**
 * Press sheets as pieces come: each piece's pages (forms) in the next cell, a sheet per page of the
 * group (backs mirrored, see impose.ts), one marks form for every sheet, and sheets under page-tree
 * nodes of TREE_CHUNK written as they fill.
 */
class Sheets {
  private group: { forms: number[]; margin: number }[] = [];
  private marks: number | null = null;
  private node: { ref: number; kids: number[] } | null = null;
  readonly nodes: number[] = [];
  count = 0;

  constructor(
    private readonly layout: SheetLayout,
    readonly geometry: PageGeometry,
    private readonly tree: number,
    private readonly allocate: () => number,
  ) {}

  /** Adds a piece's pages; returns the objects of any sheets it completes. */
  add(forms: number[], margin: number): NewObject[] {
    this.group.push({ forms, margin });
    return this.group.length === this.layout.across * this.layout.down ? this.flush() : [];
  }

  /** The last sheets, however full, and the last page-tree node. */
  end(): NewObject[] {
    const objects = this.flush();
    if (this.node) objects.push(this.closeNode());
    return objects;
  }

  private flush(): NewObject[] {
    const objects: NewObject[] = [];
    const { width, height } = this.layout;
    if (this.marks === null && this.group.length > 0) {
      this.marks = this.allocate();
      objects.push(
        stream(
          this.marks,
          `/Type /XObject\n/Subtype /Form\n/BBox [0 0 ${num(width)} ${num(height)}]\n/Resources << /ColorSpace << /${REGISTRATION} ${REGISTRATION_SPACE} >> >>`,
          `1 0 0 -1 0 ${num(height)} cm\n${this.layout.marks()}`,
        ),
      );
    }
    const pages = Math.max(0, ...this.group.map((piece) => piece.forms.length));
    for (let p = 0; p < pages; p++) {
      const names: string[] = [];
      const ops: string[] = [];
      this.group.forEach(({ forms, margin }, index) => {
        const form = forms[p];
        if (form === undefined) return;
        // The cell's trim corner, y down from the sheet's top; the form's origin is its media corner.
        const [x, y] = this.layout.origin(index, p % 2 === 1);
        const bottom = height - y - this.geometry.trimHeight;
        names.push(`/P${index} ${form} 0 R`);
        ops.push(`q\n1 0 0 1 ${num(x - margin)} ${num(bottom - margin)} cm\n/P${index} Do\nQ`);
      });
      ops.push('/Marks Do');
      if (this.node === null) this.node = { ref: this.allocate(), kids: [] };
      const page = this.allocate();
      const content = this.allocate();
      objects.push(
        [
          page,
          `<<\n/Type /Page\n/Parent ${this.node.ref} 0 R\n/Resources << /XObject << ${names.join(' ')} /Marks ${this.marks} 0 R >> >>\n/Contents ${content} 0 R\n>>`,
          null,
        ],
        stream(content, '', ops.join('\n')),
      );
      this.node.kids.push(page);
      this.count += 1;
      if (this.node.kids.length === TREE_CHUNK) objects.push(this.closeNode());
    }
    this.group = [];
    return objects;
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

/** A stream object with an uncompressed content stream (sheets' are a few short lines). */
function stream(n: number, entries: string, content: string): NewObject {
  const data = Buffer.from(content, 'latin1');
  return [n, `<<\n${entries ? `${entries}\n` : ''}/Length ${data.length}\n>>`, data];
}

/** Page labels as a number tree whose leaves are written as they fill: memory stays flat. */
class LabelTree {
  private entries: string[] = [];
  private firstIndex = 0;
  private lastIndex = 0;
  private readonly kids: { ref: number; limits: [number, number] }[] = [];

  constructor(private readonly writeLeaf: (head: string) => number) {}

  add(index: number, label: string): void {
    if (this.entries.length === 0) this.firstIndex = index;
    this.lastIndex = index;
    this.entries.push(`${index} ${label}`);
    if (this.entries.length === TREE_CHUNK) this.flush();
  }

  /** Writes the root; its number, or null when no part had labels. */
  end(): number | null {
    this.flush();
    if (this.kids.length === 0) return null;
    return this.writeLeaf(`<<\n/Kids [${this.kids.map((kid) => `${kid.ref} 0 R`).join(' ')}]\n>>`);
  }

  private flush(): void {
    if (this.entries.length === 0) return;
    const limits: [number, number] = [this.firstIndex, this.lastIndex];
    const ref = this.writeLeaf(`<<\n/Limits [${limits.join(' ')}]\n/Nums [${this.entries.join(' ')}]\n>>`);
    this.kids.push({ ref, limits });
    this.entries = [];
  }
}

/** `[[a b …] [c d …]]`: references in arrays of at most TREE_CHUNK. */
function refArrays(numbers: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < numbers.length; i += TREE_CHUNK)
    groups.push(
      `[${numbers
        .slice(i, i + TREE_CHUNK)
        .map((n) => `${n} 0 R`)
        .join(' ')}]`,
    );
  return `[${groups.join(' ')}]`;
}

// ------------------------------------------------------------------------------ reading a part

interface PartObject {
  /** The object's value as written: a dictionary, for everything PieceDocument writes. */
  head: string;
  /** Where its stream data lies in the file, if it has a stream. */
  stream: [number, number] | null;
}

/** One part, indexed: its objects by number (heads as text, streams as byte ranges) and trailer. */
class Part {
  readonly objects = new Map<number, PartObject>();
  readonly trailer: Dict;
  /** Where the first object starts: the header before it is the joined file's header. */
  readonly headerEnd: number;
  private readonly parsed = new Map<number, Dict>();
  private readonly refs = new Map<number, number[]>();

  /**
   * Reads the part where it lies, as bytes: only heads and the xref table become strings (latin1,
   * so string offsets are byte offsets), and streams are copied out of the part's own buffer.
   */
  constructor(private readonly pdf: Buffer) {
    const startxref = pdf.lastIndexOf('startxref');
    const xref = Number(/startxref\s+(\d+)/.exec(pdf.toString('latin1', startxref))?.[1]);
    const tail = startxref > 0 && xref < startxref ? pdf.toString('latin1', xref, startxref) : '';
    const table = /xref\s+0 (\d+)\s+/y;
    const size = Number(table.exec(tail)?.[1]);
    if (!(size > 0)) throw new Error('not a PieceDocument part: no xref table');
    const entry = /(\d{10}) \d{5} ([nf])\s*/y;
    entry.lastIndex = table.lastIndex;
    const starts: [number, number][] = [];
    for (let n = 0; n < size; n++) {
      const match = entry.exec(tail);
      if (!match) throw new Error(`not a PieceDocument part: xref entry ${n}`);
      if (match[2] === 'n') starts.push([Number(match[1]), n]);
    }
    starts.sort((a, b) => a[0] - b[0]);
    this.headerEnd = starts[0]![0];
    starts.forEach(([start, n], i) => {
      const end = i + 1 < starts.length ? starts[i + 1]![0] : xref;
      const body = pdf.indexOf('obj\n', start) + 4;
      const endsWith = (marker: string) => pdf.toString('latin1', end - marker.length, end) === marker;
      if (endsWith(STREAM_END)) {
        const streamAt = pdf.indexOf('\nstream\n', body);
        const stream: [number, number] = [streamAt + '\nstream\n'.length, end - STREAM_END.length];
        this.objects.set(n, { head: pdf.toString('latin1', body, streamAt), stream });
      } else if (endsWith(OBJECT_END)) {
        this.objects.set(n, { head: pdf.toString('latin1', body, end - OBJECT_END.length), stream: null });
      } else {
        throw new Error(`not a PieceDocument part: object ${n} is not where the xref says`);
      }
    });
    this.trailer = parseDict(tail.slice(tail.indexOf('<<', tail.lastIndexOf('trailer'))));
  }

  dict(n: number): Dict {
    let dict = this.parsed.get(n);
    if (!dict) {
      const object = this.objects.get(n);
      if (!object) throw new Error(`part has no object ${n}`);
      dict = parseDict(object.head);
      this.parsed.set(n, dict);
    }
    return dict;
  }

  /** Objects reachable from `roots` without passing through `stop`, in the order they are in the file. */
  reachable(roots: number[], stop: ReadonlySet<number> = new Set()): number[] {
    const seen = new Set<number>();
    const todo = roots.filter((n) => !stop.has(n));
    while (todo.length > 0) {
      const n = todo.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const to of this.refsOf(n)) if (!seen.has(to) && !stop.has(to)) todo.push(to);
    }
    return [...this.objects.keys()].filter((n) => seen.has(n));
  }

  /**
   * Identity of an image by content (its dictionary and data, and its soft mask's), or null for
   * anything else: images are the large objects parts have in common.
   */
  imageKey(n: number): string | null {
    const object = this.objects.get(n)!;
    if (!object.stream || !object.head.includes('/Subtype /Image')) return null;
    const hash = createHash('sha256');
    let pure = true;
    hash.update(
      renumberRefs(object.head, (to) => {
        const key = this.imageKey(to);
        if (key === null) pure = false;
        hash.update(key ?? '');
        return 0;
      }),
    );
    hash.update(this.pdf.subarray(object.stream[0], object.stream[1]));
    return pure ? hash.digest('base64') : null;
  }

  /** A page-label number tree's entries: page index and label dictionary (as written). */
  labels(root: number): [number, string][] {
    const node = this.dict(root);
    const nums = node.get('Nums');
    const own: [number, string][] = [];
    if (Array.isArray(nums)) {
      for (let i = 0; i + 1 < nums.length; i += 2)
        own.push([Number(rawOf(nums[i])), serialize(nums[i + 1]!, (n) => n)]);
    }
    const kids = node.get('Kids');
    return Array.isArray(kids) ? own.concat(kids.flatMap((kid) => this.labels(refOf(kid)))) : own;
  }

  private refsOf(n: number): number[] {
    let refs = this.refs.get(n);
    if (!refs) {
      refs = [];
      const head = this.objects.get(n)?.head ?? '';
      // Matched, not replaced: a part has tens of thousands of heads, and only their numbers are wanted.
      for (const [, to] of head.matchAll(STRING_OR_REF)) if (to !== undefined) refs.push(Number(to));
      this.refs.set(n, refs);
    }
    return refs;
  }
}

// ------------------------------------------------------------------------------ object syntax

/** How pdfkit ends an object, with and without a stream (PDFReference.finalize). */
const OBJECT_END = '\nendobj\n';
const STREAM_END = '\nendstream\nendobj\n';

/**
 * A literal string (pdfkit escapes parentheses and newlines inside them, so none ends early) or an
 * indirect reference. Matching strings first keeps reference-like text inside one untouched.
 */
const STRING_OR_REF = /\((?:[^\\)]|\\[\s\S])*\)|\b(\d+) (\d+) R\b/g;

/** The text with every indirect reference's object number mapped. */
function renumberRefs(head: string, map: (n: number) => number): string {
  return head.replace(STRING_OR_REF, (match, n: string | undefined) =>
    n === undefined ? match : `${map(Number(n))} 0 R`,
  );
}

/** A dictionary's text with one more entry, added last. */
function withEntry(head: string, key: string, ref: number): string {
  const end = head.lastIndexOf('>>');
  return `${head.slice(0, end)}/${key} ${ref} 0 R\n>>`;
}

class Raw {
  constructor(readonly text: string) {}
}
class Ref {
  constructor(readonly n: number) {}
}
type Value = Raw | Ref | Value[] | Dict;
type Dict = Map<string, Value>;

function refOf(value: Value | undefined): number {
  if (!(value instanceof Ref)) throw new Error('expected an indirect reference');
  return value.n;
}
function optionalRef(value: Value | undefined): number | null {
  return value === undefined ? null : refOf(value);
}
function rawOf(value: Value | undefined): string {
  if (!(value instanceof Raw)) throw new Error('expected a number');
  return value.text;
}
function refsIn(value: Value | undefined): number[] {
  if (value === undefined || value instanceof Raw) return [];
  if (value instanceof Ref) return [value.n];
  return (Array.isArray(value) ? value : [...value.values()]).flatMap(refsIn);
}

function serialize(value: Value, map: (n: number) => number): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Ref) return `${map(value.n)} 0 R`;
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v, map)).join(' ')}]`;
  return `<<\n${[...value].map(([k, v]) => `/${k} ${serialize(v, map)}`).join('\n')}\n>>`;
}

/** Parses the dictionary at the start of `text` (the few structural ones the joiner reads). */
function parseDict(text: string): Dict {
  const tokens = text.match(TOKEN) ?? [];
  let i = 0;
  const value = (): Value => {
    const token = tokens[i++];
    if (token === undefined) throw new Error('unexpected end of a PDF object');
    if (token === '<<') {
      const dict: Dict = new Map();
      while (tokens[i] !== '>>') {
        const key = tokens[i++];
        if (!key?.startsWith('/')) throw new Error(`expected a name in a dictionary, got ${key}`);
        dict.set(key.slice(1), value());
      }
      i += 1;
      return dict;
    }
    if (token === '[') {
      const array: Value[] = [];
      while (tokens[i] !== ']') array.push(value());
      i += 1;
      return array;
    }
    if (/^\d+$/.test(token) && /^\d+$/.test(tokens[i] ?? '') && tokens[i + 1] === 'R') {
      i += 2;
      return new Ref(Number(token));
    }
    return new Raw(token);
  };
  const dict = value();
  if (!(dict instanceof Map)) throw new Error('expected a dictionary');
  return dict;
}

const TOKEN = /<<|>>|\[|\]|\((?:[^\\)]|\\[\s\S])*\)|<[0-9A-Fa-f\s]*>|\/[^\s/<>[\]()]*|[^\s/<>[\]()]+/g;
