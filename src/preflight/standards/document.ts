import { PdfFile, UnreadablePdfError } from '../../pdf/reader.js';
import { type Dict, parseValue, Raw, Ref, type Value } from '../../pdf/syntax.js';
import { readXmp, XmpError, type XmpProperties } from './xmp.js';

/**
 * A finished PDF as the standards' checks read it: the header's version, the trailer, the catalog,
 * the Info dictionary's text, the XMP metadata, and the pages with their boxes (inherited ones
 * included). It reads through the one PDF reader (src/pdf/reader.ts) and knows nothing of how Platen
 * writes: every check here takes the file as any producer might have written it.
 */
export class StandardsDocument {
  readonly file: PdfFile;
  /** The version in the `%PDF-x.y` header, e.g. "1.6"; null without one. */
  readonly headerVersion: string | null;
  readonly catalog: Dict;
  readonly info: Dict | undefined;
  readonly pages: PageView[];
  /** The catalog's XMP properties, or why there are none. */
  readonly xmp: { properties: XmpProperties } | { problem: string };
  /** Objects' values as parsed, by number: the checks look at many objects more than once. */
  private readonly parsed = new Map<number, Value | undefined>();

  constructor(bytes: Buffer) {
    this.file = new PdfFile(bytes);
    this.headerVersion = /^%PDF-(\d\.\d)/.exec(bytes.toString('latin1', 0, 16))?.[1] ?? null;
    const catalog = this.dict(this.file.trailer.get('Root'));
    if (!catalog) throw new UnreadablePdfError('no document catalog');
    this.catalog = catalog;
    this.info = this.dict(this.file.trailer.get('Info'));
    this.pages = this.readPages();
    this.xmp = this.readMetadata();
  }

  /** A value with an indirect reference followed (once: PDF has no references to references). */
  resolve(value: Value | undefined): Value | undefined {
    if (!(value instanceof Ref)) return value;
    if (this.parsed.has(value.n)) return this.parsed.get(value.n);
    const object = this.file.objects.get(value.n);
    let parsed: Value | undefined;
    try {
      parsed = object ? parseValue(object.head) : undefined;
    } catch {
      parsed = undefined; // not an object this checker can read: as if absent
    }
    this.parsed.set(value.n, parsed);
    return parsed;
  }

  /** The dictionary a value is or refers to (a stream's dictionary for a stream). */
  dict(value: Value | undefined): Dict | undefined {
    const resolved = this.resolve(value);
    return resolved instanceof Map ? resolved : undefined;
  }

  array(value: Value | undefined): Value[] | undefined {
    const resolved = this.resolve(value);
    return Array.isArray(resolved) ? resolved : undefined;
  }

  /** The decoded data of the stream a reference points to, or undefined. */
  stream(value: Value | undefined): Buffer | undefined {
    const object = value instanceof Ref ? this.file.objects.get(value.n) : undefined;
    if (!object?.stream) return undefined;
    try {
      return this.file.decoded(object);
    } catch {
      return undefined;
    }
  }

  /** An Info entry (or any text string) as text: literal or hex, PDFDocEncoding or UTF-16BE. */
  text(value: Value | undefined): string | undefined {
    const resolved = this.resolve(value);
    return resolved instanceof Raw ? textString(resolved.text) : undefined;
  }

  private readPages(): PageView[] {
    const pages: PageView[] = [];
    const visit = (ref: Value | undefined, inherited: Map<string, Value>, depth: number) => {
      const node = this.dict(ref);
      if (!node || depth > 64) return;
      const own = new Map(inherited);
      for (const key of INHERITED) {
        const value = node.get(key);
        if (value !== undefined) own.set(key, value);
      }
      const kids = this.array(node.get('Kids'));
      if (nameOf(node.get('Type')) === 'Pages' || (kids && nameOf(node.get('Type')) !== 'Page')) {
        for (const kid of kids ?? []) visit(kid, own, depth + 1);
        return;
      }
      const box = (key: string) => asRect(this.array(key === 'MediaBox' ? own.get(key) : node.get(key)));
      pages.push({
        number: pages.length + 1,
        ref: ref instanceof Ref ? ref.n : null,
        dict: node,
        resources: this.dict(own.get('Resources')),
        mediaBox: box('MediaBox'),
        cropBox: asRect(this.array(own.get('CropBox'))),
        bleedBox: box('BleedBox'),
        trimBox: box('TrimBox'),
        artBox: box('ArtBox'),
      });
    };
    visit(this.catalog.get('Pages'), new Map(), 0);
    return pages;
  }

  private readMetadata(): StandardsDocument['xmp'] {
    const metadata = this.catalog.get('Metadata');
    const data = this.stream(metadata);
    if (!data) return { problem: 'the catalog has no XMP metadata stream' };
    try {
      return { properties: readXmp(data.toString('utf8')) };
    } catch (error) {
      if (error instanceof XmpError) return { problem: error.message };
      throw error;
    }
  }
}

export interface PageView {
  /** From 1, in page-tree order. */
  number: number;
  /** The page object's number, when it is an indirect object (as pages are). */
  ref: number | null;
  dict: Dict;
  resources: Dict | undefined;
  mediaBox: Rect | undefined;
  cropBox: Rect | undefined;
  bleedBox: Rect | undefined;
  trimBox: Rect | undefined;
  artBox: Rect | undefined;
}

/** A rectangle normalised to [left, bottom, right, top]. */
export type Rect = [number, number, number, number];

/** Attributes a page inherits from the page tree (ISO 32000-1, 7.7.3.4). */
const INHERITED = ['Resources', 'MediaBox', 'CropBox', 'Rotate'];

/** A rectangle's four numbers, normalised; undefined for anything else. */
export function asRect(values: Value[] | undefined): Rect | undefined {
  if (!values || values.length !== 4) return undefined;
  const n = values.map((v) => (v instanceof Raw ? Number(v.text) : NaN));
  if (n.some((v) => !Number.isFinite(v))) return undefined;
  return [Math.min(n[0]!, n[2]!), Math.min(n[1]!, n[3]!), Math.max(n[0]!, n[2]!), Math.max(n[1]!, n[3]!)];
}

/** Whether `inner` lies within `outer` (a hundredth of a point of rounding allowed). */
export function within(inner: Rect, outer: Rect): boolean {
  const e = 0.01;
  return (
    inner[0] >= outer[0] - e &&
    inner[1] >= outer[1] - e &&
    inner[2] <= outer[2] + e &&
    inner[3] <= outer[3] + e
  );
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/** A name's text without its slash, or undefined for anything but a name. */
export function nameOf(value: Value | undefined): string | undefined {
  return value instanceof Raw && value.text.startsWith('/') ? decodeName(value.text.slice(1)) : undefined;
}

export function numberOf(value: Value | undefined): number | undefined {
  if (!(value instanceof Raw) || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value.text)) return undefined;
  return Number(value.text);
}

function decodeName(name: string): string {
  return name.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The kind of value a token is, for checks that restrict types (DPM). */
export function kindOf(
  value: Value,
): 'dict' | 'array' | 'ref' | 'string' | 'name' | 'number' | 'boolean' | 'null' {
  if (value instanceof Map) return 'dict';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Ref) return 'ref';
  const text = value.text;
  if (text.startsWith('(') || text.startsWith('<')) return 'string';
  if (text.startsWith('/')) return 'name';
  if (text === 'true' || text === 'false') return 'boolean';
  if (text === 'null') return 'null';
  return 'number';
}

/** A string token's bytes: a literal `( … )` with its escapes, or a hex `< … >` string. */
function stringBytes(token: string): Buffer {
  if (token.startsWith('<')) {
    const hex = token.slice(1, -1).replace(/\s+/g, '');
    return Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
  }
  const body = token.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const next = body[++i];
    if (next === undefined) break;
    const octal = /^[0-7]{1,3}/.exec(body.slice(i, i + 3));
    if (octal) {
      out.push(parseInt(octal[0], 8) & 0xff);
      i += octal[0].length - 1;
    } else if (next === '\r') {
      if (body[i + 1] === '\n') i += 1; // a line continuation
    } else if (next !== '\n') {
      out.push((ESCAPES[next] ?? next).charCodeAt(0));
    }
  }
  return Buffer.from(out);
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/** A text string's text (ISO 32000-1, 7.9.2.2): UTF-16BE after a byte-order mark, else PDFDocEncoding. */
export function textString(token: string): string | undefined {
  if (!token.startsWith('(') && !token.startsWith('<')) return undefined;
  const bytes = stringBytes(token);
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  // PDFDocEncoding agrees with Latin-1 on the characters these entries use.
  return bytes.toString('latin1');
}

/** Milliseconds since the epoch of a PDF date string (ISO 32000-1, 7.9.4), or null. */
export function pdfDate(text: string | undefined): number | null {
  const match = /^D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:([Zz+-])(?:(\d\d)'?(\d\d)?'?)?)?$/.exec(
    text?.trim() ?? '',
  );
  if (!match) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = match;
  const zone = sign === undefined || sign === 'Z' || sign === 'z' ? 'Z' : `${sign}${oh}:${om}`;
  const time = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return Number.isNaN(time) ? null : time;
}
