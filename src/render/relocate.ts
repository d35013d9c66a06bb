import { createHash } from 'node:crypto';
import { PdfFile, UnreadablePdfError } from '../pdf/reader.js';
import {
  optionalRef,
  rawOf,
  refOf,
  refsIn,
  renumberRefs,
  serialize,
  withEntry,
  withoutRefEntry,
} from '../pdf/syntax.js';

/**
 * A part of a merged drop made ready to append (see PdfJoiner in join.ts), off the joining thread:
 * the work per object of a join (reading a part, renumbering each object's references, writing its
 * text) is done here, in any worker, for many parts at once; the joiner is left with the work per
 * part (its page-tree node, bookmarks run, page labels, node of records) and the cross-reference table.
 *
 * A part's objects keep their order and their numbers, moved up by a base the joiner hands out in row
 * order before any part is relocated: object n of a part is object base + n - 1 of the file, so a
 * part's range is known from its size alone. The few objects of a part the joined file does not use
 * (its catalog, outline and DPart roots, page-label tree; an image an earlier part wrote) leave free
 * entries in the cross-reference table.
 */

/** What the joiner needs to know of a part before it is relocated: its size and its images. */
export interface PartSurvey {
  /** Object numbers the part uses (its trailer's Size, less the free head). */
  objects: number;
  /** Its images, by object number, with their identity by content (see imageKey). */
  images: [number, string][];
  /** Whether it has bookmarks and record boundaries, whose joined roots the joiner then makes. */
  outline: boolean;
  records: boolean;
}

/** Where a part goes in the joined file: see PdfJoiner.plan. */
export interface RelocationPlan {
  /** The part's object 1 becomes this one. */
  base: number;
  /** Images an earlier part wrote: the part's number and the file's. */
  reuse: [number, number][];
  /** The first part brings the catalog's other entries, the Info dictionary, file ID and header. */
  first: boolean;
  /** The joined file's page-tree root, outline and node of records: parents of the part's own (0: none). */
  pageTree: number;
  outline: number;
  records: number;
}

/** A part relocated: its objects as they go into the joined file, and what the joiner stitches. */
export interface RelocatedPart {
  /** The objects' text and streams, renumbered, ready to append. */
  bytes: Uint8Array;
  /** Where object base + k starts in `bytes`; -1 for one not written. */
  offsets: Float64Array;
  /** The part's page-tree node (in the file's numbers) and how many pages it holds. */
  pages: number;
  pageCount: number;
  /** Page labels: index within the part, label dictionary as written. */
  labels: [number, string][];
  /**
   * The part's bookmarks, a chain of `count` items: its first and last items are left to the joiner,
   * which links them to the runs before and after (the same item, for a chain of one).
   */
  outline: { count: number; first: [number, string]; last: [number, string] } | null;
  /** The part's node of records, its Parent the joined file's. */
  records: number | null;
  /** The part's XMP packet, if it has one. */
  packet: string | null;
  /** From the first part: the bytes before its first object, its catalog's other entries, Info and ID. */
  first: { header: string; catalog: [string, string][]; info: string | null; id: string | null } | null;
}

/** Catalog entries the joiner builds itself from every part's. */
export const STITCHED = new Set(['Type', 'Pages', 'Outlines', 'PageLabels', 'DPartRoot', 'Metadata']);

export function surveyPart(pdf: Buffer | PdfFile): PartSurvey {
  const part = pdf instanceof PdfFile ? pdf : readPart(pdf);
  const images: [number, string][] = [];
  for (const n of part.objects.keys()) {
    const key = imageKey(part, n);
    if (key !== null) images.push([n, key]);
  }
  const catalog = part.dict(refOf(part.trailer.get('Root')));
  return {
    objects: Number(rawOf(part.trailer.get('Size'))) - 1,
    images,
    outline: catalog.has('Outlines'),
    records: catalog.has('DPartRoot'),
  };
}

export function relocatePart(pdf: Buffer | PdfFile, plan: RelocationPlan): RelocatedPart {
  const part = pdf instanceof PdfFile ? pdf : readPart(pdf);
  const root = refOf(part.trailer.get('Root'));
  const catalog = part.dict(root);
  const pages = refOf(catalog.get('Pages'));
  const outlines = optionalRef(catalog.get('Outlines'));
  const labels = optionalRef(catalog.get('PageLabels'));
  const dpartRoot = optionalRef(catalog.get('DPartRoot'));
  const dpartNode = dpartRoot === null ? null : refOf(part.dict(dpartRoot).get('DPartRootNode'));
  const size = Number(rawOf(part.trailer.get('Size')));

  // What this part brings: its pages and everything they, their bookmarks and their record
  // boundaries use; the first part also the catalog's other entries and the Info dictionary.
  const consumed = new Set([root, ...(labels === null ? [] : part.reachable([labels]))]);
  if (outlines !== null) consumed.add(outlines);
  if (dpartRoot !== null) consumed.add(dpartRoot);
  const from = [pages, ...(dpartNode === null ? [] : [dpartNode])];
  if (outlines !== null) from.push(...refsIn(part.dict(outlines)));
  const firstRefs = plan.first
    ? [...catalog]
        .flatMap(([key, value]) => (STITCHED.has(key) ? [] : refsIn(value)))
        .concat(refsIn(part.trailer.get('Info')))
    : [];
  from.push(...firstRefs);
  const keep = part.reachable(from, consumed);

  const reuse = new Map(plan.reuse);
  const map = (n: number): number => {
    if (n === outlines) return plan.outline;
    const reused = reuse.get(n);
    if (reused !== undefined) return reused;
    if (!part.objects.has(n) || n >= size)
      throw new Error(`part refers to object ${n}, which it does not hold`);
    return plan.base + n - 1;
  };

  let items: { first: number; last: number; count: number } | null = null;
  if (outlines !== null) {
    const tree = part.dict(outlines);
    items = {
      first: refOf(tree.get('First')),
      last: refOf(tree.get('Last')),
      count: Number(rawOf(tree.get('Count'))),
    };
  }
  let firstItem: [number, string] | null = null;
  let lastItem: [number, string] | null = null;

  const offsets = new Float64Array(size - 1).fill(-1);
  const chunks: Buffer[] = [];
  let text = '';
  let length = 0;
  const write = (chunk: string | Buffer) => {
    if (typeof chunk === 'string') text += chunk;
    else {
      chunks.push(Buffer.from(text, 'latin1'), chunk);
      text = '';
    }
    length += chunk.length;
  };
  for (const n of keep) {
    if (reuse.has(n)) continue;
    const object = part.objects.get(n)!;
    // A part's node of records had its own DPartRoot for Parent: the joined node is its parent now.
    let head = renumberRefs(n === dpartNode ? withoutRefEntry(object.head, 'Parent') : object.head, map);
    if (n === pages) head = withEntry(head, 'Parent', plan.pageTree);
    if (n === dpartNode) head = withEntry(head, 'Parent', plan.records);
    if (items && n === items.first) firstItem = [map(n), head];
    if (items && n === items.last) lastItem = [map(n), head];
    if (items && (n === items.first || n === items.last)) continue;
    offsets[n - 1] = length;
    if (object.stream) {
      write(`${map(n)} 0 obj\n${head}\nstream\n`);
      write(part.data(object));
      write('\nendstream\nendobj\n');
    } else {
      write(`${map(n)} 0 obj\n${head}\nendobj\n`);
    }
  }
  chunks.push(Buffer.from(text, 'latin1'));

  const metadata = optionalRef(catalog.get('Metadata'));
  const info = part.trailer.get('Info');
  const id = part.trailer.get('ID');
  return {
    bytes: Buffer.concat(chunks, length),
    offsets,
    pages: map(pages),
    pageCount: Number(rawOf(part.dict(pages).get('Count'))),
    labels: labels === null ? [] : labelsOf(part, labels),
    outline: items && firstItem && lastItem ? { count: items.count, first: firstItem, last: lastItem } : null,
    records: dpartNode === null ? null : map(dpartNode),
    packet: metadata === null ? null : part.decoded(part.objects.get(metadata)!).toString('utf8'),
    first: plan.first
      ? {
          header: part.bytes.toString('latin1', 0, part.headerEnd),
          catalog: [...catalog].flatMap(([key, value]) =>
            STITCHED.has(key) ? [] : [[key, serialize(value, map)] as [string, string]],
          ),
          info: info === undefined ? null : serialize(info, map),
          id: id === undefined ? null : serialize(id, map),
        }
      : null,
  };
}

/** A part, read (see PdfFile): only PieceDocument's output is joined, so anything unreadable is not one. */
export function readPart(pdf: Buffer): PdfFile {
  try {
    return new PdfFile(pdf);
  } catch (error) {
    if (error instanceof UnreadablePdfError)
      throw new Error(`not a PieceDocument part: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Identity of an image by content (its dictionary and data, and its soft mask's), or null for
 * anything else: images are the large objects parts have in common.
 */
export function imageKey(part: PdfFile, n: number): string | null {
  const object = part.objects.get(n)!;
  if (!object.stream || !object.head.includes('/Subtype /Image')) return null;
  const hash = createHash('sha256');
  let pure = true;
  hash.update(
    renumberRefs(object.head, (to) => {
      const key = imageKey(part, to);
      if (key === null) pure = false;
      hash.update(key ?? '');
      return 0;
    }),
  );
  hash.update(part.data(object));
  return pure ? hash.digest('base64') : null;
}

/** A page-label number tree's entries: page index and label dictionary (as written). */
export function labelsOf(part: PdfFile, root: number): [number, string][] {
  return part.numberTree(root).map(([index, label]) => [index, serialize(label, (n) => n)]);
}
