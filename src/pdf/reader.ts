import { inflateSync } from 'node:zlib';
import { type Dict, parseDict, rawOf, refOf, STRING_OR_REF, type Value } from './syntax.js';

/**
 * Reads a PDF with classic cross-reference tables, where it lies, as bytes: the joiner reads print-file
 * parts with it and preflight any file handed to it. Each object's value (its head) becomes text
 * (latin1, so string offsets are byte offsets) and its stream stays a byte range of the file, found
 * between the offsets the tables give (not from its Length). Files indexed by cross-reference streams
 * (and so any with object streams) are refused rather than half-read.
 */

export class UnreadablePdfError extends Error {}

export interface PdfObject {
  /** The object's value as written: a dictionary, for the objects anything here walks. */
  head: string;
  /** Where its stream data lies in the file, if it has a stream. */
  stream: [number, number] | null;
}

export class PdfFile {
  /** Every object, by number, in the order they lie in the file. */
  readonly objects = new Map<number, PdfObject>();
  readonly trailer: Dict;
  /** Where the first object starts: what lies before it is the file's header. */
  readonly headerEnd: number;
  private readonly parsed = new Map<number, Dict>();
  private readonly refs = new Map<number, number[]>();

  constructor(readonly bytes: Buffer) {
    const pdf = bytes;
    const startxref = pdf.lastIndexOf('startxref');
    if (startxref < 0) throw new UnreadablePdfError('no cross-reference table');
    let at = Number(/^startxref\s+(\d+)/.exec(pdf.toString('latin1', startxref, startxref + 40))?.[1]);
    const offsets = new Map<number, number>();
    /** Where each table starts: objects end before them. */
    const tables: number[] = [];
    let trailer: Dict | null = null;
    while (Number.isInteger(at) && !tables.includes(at)) {
      const section = readXref(pdf, at, offsets);
      tables.push(at);
      trailer ??= section;
      if (section.has('XRefStm')) throw new UnreadablePdfError('object streams are not supported');
      const previous = section.get('Prev');
      at = previous === undefined ? NaN : Number(rawOf(previous));
    }
    if (trailer === null) throw new UnreadablePdfError('no cross-reference table');
    this.trailer = trailer;
    const starts = [...offsets].map(([n, offset]) => [offset, n] as [number, number]);
    starts.sort((a, b) => a[0] - b[0]);
    if (starts.length === 0) throw new UnreadablePdfError('no objects');
    this.headerEnd = starts[0]![0];
    const bounds = [...starts.map(([offset]) => offset), ...tables, pdf.length].sort((a, b) => a - b);
    let next = 0;
    for (const [start, n] of starts) {
      while (bounds[next]! <= start) next++;
      this.objects.set(n, readObject(pdf, n, start, bounds[next]!));
    }
  }

  dict(n: number): Dict {
    let dict = this.parsed.get(n);
    if (!dict) {
      const object = this.objects.get(n);
      if (!object) throw new UnreadablePdfError(`no object ${n}`);
      dict = parseDict(object.head);
      this.parsed.set(n, dict);
    }
    return dict;
  }

  /** An object's stream data as written (still encoded). */
  data(object: PdfObject): Buffer {
    if (!object.stream) throw new UnreadablePdfError('expected a stream');
    return this.bytes.subarray(object.stream[0], object.stream[1]);
  }

  /** An object's stream data decoded (deflated streams inflated, as pdfkit writes them). */
  decoded(object: PdfObject): Buffer {
    const data = this.data(object);
    return /\/FlateDecode/.test(object.head) ? inflateSync(data) : data;
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

  /** A number tree's entries (page labels): key and value, leaves in order. */
  numberTree(root: number): [number, Value][] {
    const node = this.dict(root);
    const nums = node.get('Nums');
    const own: [number, Value][] = [];
    if (Array.isArray(nums)) {
      for (let i = 0; i + 1 < nums.length; i += 2) own.push([Number(rawOf(nums[i])), nums[i + 1]!]);
    }
    const kids = node.get('Kids');
    return Array.isArray(kids) ? own.concat(kids.flatMap((kid) => this.numberTree(refOf(kid)))) : own;
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

/** Reads the cross-reference table at `at` into `offsets` (entries already there are newer); its trailer. */
function readXref(pdf: Buffer, at: number, offsets: Map<number, number>): Dict {
  const end = pdf.indexOf('startxref', at);
  const text = pdf.toString('latin1', at, end < 0 ? pdf.length : end);
  if (/^\d+\s+\d+\s+obj/.test(text)) throw new UnreadablePdfError('object streams are not supported');
  const table = /xref\s+/y;
  if (!table.exec(text)) throw new UnreadablePdfError('no cross-reference table');
  const subsection = /(\d+) (\d+)\s+/y;
  const entry = /(\d{10}) \d{5} ([nf])\s*/y;
  subsection.lastIndex = table.lastIndex;
  let match: RegExpExecArray | null;
  while ((match = subsection.exec(text))) {
    const first = Number(match[1]);
    const count = Number(match[2]);
    entry.lastIndex = subsection.lastIndex;
    for (let n = first; n < first + count; n++) {
      const row = entry.exec(text);
      if (!row) throw new UnreadablePdfError(`cross-reference entry ${n} is unreadable`);
      if (row[2] === 'n' && !offsets.has(n)) offsets.set(n, Number(row[1]));
    }
    subsection.lastIndex = entry.lastIndex;
  }
  const trailer = text.indexOf('trailer', subsection.lastIndex);
  if (trailer < 0) throw new UnreadablePdfError('no trailer');
  return parseDict(text.slice(text.indexOf('<<', trailer)));
}

/** The object at `start`, which ends (with `endobj`) before `end`. */
function readObject(pdf: Buffer, n: number, start: number, end: number): PdfObject {
  const keyword = pdf.indexOf('obj', start);
  const close = pdf.lastIndexOf('endobj', end - 6);
  if (keyword < 0 || close < keyword + 3)
    throw new UnreadablePdfError(`object ${n} is not where the xref says`);
  const body = skipSpace(pdf, keyword + 3, 1);
  const last = skipSpace(pdf, close, -1);
  if (pdf.toString('latin1', last - 9, last) !== 'endstream') {
    return { head: pdf.toString('latin1', body, last), stream: null };
  }
  const stream = pdf.indexOf('stream', body);
  const head = pdf.toString('latin1', body, skipSpace(pdf, stream, -1));
  // The data starts after the keyword's end of line, and is as long as a direct Length says; else
  // it ends before the end of line ahead of endstream.
  let from = stream + 6;
  if (pdf[from] === 0x0d) from += 1;
  if (pdf[from] === 0x0a) from += 1;
  const endstream = last - 9;
  const length = Number(DIRECT_LENGTH.exec(head)?.[1] ?? NaN);
  let to = from + length;
  if (!(to <= endstream && skipSpace(pdf, to, 1) >= endstream)) {
    to = endstream;
    if (pdf[to - 1] === 0x0a) to -= 1;
    if (pdf[to - 1] === 0x0d) to -= 1;
  }
  if (stream < 0 || to < from) throw new UnreadablePdfError(`object ${n} has no readable stream`);
  return { head, stream: [from, to] };
}

const DIRECT_LENGTH = /\/Length (\d+)\b(?! \d+ R)/;

/** From `at`, forward (step 1) past white space, or backward (step -1) to just after it. */
function skipSpace(pdf: Buffer, at: number, step: 1 | -1): number {
  let i = step === 1 ? at : at - 1;
  while (i >= 0 && i < pdf.length && WHITE_SPACE.has(pdf[i]!)) i += step;
  return step === 1 ? i : i + 1;
}

const WHITE_SPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
