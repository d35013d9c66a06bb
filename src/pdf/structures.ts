import { pdfString, withEntry } from './syntax.js';

/**
 * The structures that make a print file navigable, written as their objects' text: bookmarks (the
 * outline), page labels and record boundaries (PDF/VT-style DParts, ISO 16612-2). A document writes
 * them for its pieces (render/document.ts), the joiner for the pieces of all its parts (render/join.ts).
 * Each is written as it fills, so a file of a million pieces holds none of them in memory whole.
 */

/** Where structures write: numbers are handed out first (others refer to them), objects written later. */
export interface ObjectSink {
  allocate(): number;
  write(n: number, head: string): void;
}

/** Entries per array or number-tree leaf: within PDF's customary 8,191-element limit. */
const TREE_CHUNK = 4096;

/**
 * The outline: one flat list of bookmarks. Items come in runs already linked among themselves (one
 * item from a document, a part's chain from the joiner); the last item so far is held back until the
 * next run gives it its Next.
 */
export class Outline {
  private root: number | null = null;
  private first: number | null = null;
  private count = 0;
  private last: { n: number; head: string } | null = null;

  constructor(private readonly sink: ObjectSink) {}

  /** The outline's number, every item's Parent (allocated when first asked). */
  get parent(): number {
    return (this.root ??= this.sink.allocate());
  }

  /** The first item of a run of `count`: its text, with Prev when an item came before (now written). */
  linkFirst(n: number, head: string, count: number): string {
    this.count += count;
    if (this.last === null) {
      this.first = n;
      return head;
    }
    this.sink.write(this.last.n, withEntry(this.last.head, 'Next', n));
    return withEntry(head, 'Prev', this.last.n);
  }

  /** The last item of a run, held back until the next run (or the end). */
  holdLast(n: number, head: string): void {
    this.last = { n, head };
  }

  /** Writes the last item and the outline; its number, or null when there were no items. */
  end(): number | null {
    if (this.root === null || this.last === null) return null;
    this.sink.write(this.last.n, this.last.head);
    this.sink.write(
      this.root,
      `<<\n/Type /Outlines\n/First ${this.first} 0 R\n/Last ${this.last.n} 0 R\n/Count ${this.count}\n>>`,
    );
    return this.root;
  }
}

/** Page labels as a number tree whose leaves are written as they fill. */
export class PageLabels {
  private entries: string[] = [];
  private firstIndex = 0;
  private lastIndex = 0;
  private readonly kids: number[] = [];

  constructor(private readonly sink: ObjectSink) {}

  /** The label (a dictionary's text, see pageLabel) of the pages from `index` on. */
  add(index: number, label: string): void {
    if (this.entries.length === 0) this.firstIndex = index;
    this.lastIndex = index;
    this.entries.push(`${index} ${label}`);
    if (this.entries.length === TREE_CHUNK) this.flush();
  }

  /** Writes the root; its number, or null when there were no labels. */
  end(): number | null {
    this.flush();
    if (this.kids.length === 0) return null;
    const root = this.sink.allocate();
    this.sink.write(root, `<<\n/Kids [${this.kids.map((kid) => `${kid} 0 R`).join(' ')}]\n>>`);
    return root;
  }

  private flush(): void {
    if (this.entries.length === 0) return;
    const leaf = this.sink.allocate();
    this.sink.write(
      leaf,
      `<<\n/Limits [${this.firstIndex} ${this.lastIndex}]\n/Nums [${this.entries.join(' ')}]\n>>`,
    );
    this.kids.push(leaf);
    this.entries = [];
  }
}

/**
 * A piece's page label: `12` for a one-page piece, `12-1`, `12-2`… for more. The prefix is a text
 * string (ISO 32000-1, 12.4.2, table 159): readers take a name there for no prefix at all.
 */
export function pageLabel(prefix: string, pages: number): string {
  return pages > 1 ? `<<\n/S /D\n/P ${pdfString(`${prefix}-`)}\n>>` : `<<\n/P ${pdfString(prefix)}\n>>`;
}

/** Record boundaries: a DPart node whose children are records (or, joined, parts' nodes of records). */
export class RecordParts {
  private node: number | null = null;
  private readonly children: number[] = [];

  constructor(private readonly sink: ObjectSink) {}

  /** The node's number, its children's Parent (allocated when first asked). */
  get parent(): number {
    return (this.node ??= this.sink.allocate());
  }

  add(child: number): void {
    this.children.push(child);
  }

  /**
   * Writes the node and, given the level records are at, the DPartRoot naming it: the DPartRoot's
   * number, or null (also when the node was never asked for). The root node's Parent is the
   * DPartRoot (ISO 32000-2, 14.12), so an imposed file's unnamed node has none. The DPartRoot names
   * each level, from the root node's down (NodeNameList, which PDF/VT files carry, ISO 16612-2):
   * the document, the parts a drop was joined from, the records.
   */
  end(recordLevel: number | null): number | null {
    if (this.node === null) return null;
    const dparts = `/DParts ${refArrays(this.children)}`;
    if (recordLevel === null) {
      this.sink.write(this.node, `<<\n/Type /DPart\n${dparts}\n>>`);
      return null;
    }
    const root = this.sink.allocate();
    this.sink.write(this.node, `<<\n/Type /DPart\n/Parent ${root} 0 R\n${dparts}\n>>`);
    this.sink.write(
      root,
      `<<\n/Type /DPartRoot\n/DPartRootNode ${this.node} 0 R\n/RecordLevel ${recordLevel}\n/NodeNameList [${levelNames(recordLevel)}]\n>>`,
    );
    return root;
  }
}

/** `/Document /Part /Record`: the names of the levels down to records, at `recordLevel`. */
function levelNames(recordLevel: number): string {
  const middle = Array.from({ length: recordLevel - 1 }, () => '/Part');
  return ['/Document', ...middle, '/Record'].join(' ');
}

/**
 * A record's DPart leaf: its first and last page (when it has more than one) and, in its DPM, its
 * record's SHA-256 as a text string: a hash is data, not a name.
 */
export function recordPart(parent: number, recordHash: string, start: number, end: number | null): string {
  // Type is optional on DPart leaves: left out, as it would be repeated for every record.
  return `<<\n/Parent ${parent} 0 R\n/DPM <<\n/RecordSHA256 ${pdfString(recordHash)}\n>>\n/Start ${start} 0 R${end === null ? '' : `\n/End ${end} 0 R`}\n>>`;
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
