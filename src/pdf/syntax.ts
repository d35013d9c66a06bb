import type { Color, SpotInk } from '../model/color.js';

/**
 * PDF object syntax as Platen reads and writes it: values parsed from an object's text (the
 * structural dictionaries a reader needs; content streams stay bytes), written back with their
 * references renumbered, and the text forms of numbers and strings that pdfkit writes.
 */

/** Compact number formatting for content streams: at most 3 decimals, no trailing zeros. */
export function num(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** The colour operator: `rg`/`k` for fill, `RG`/`K` for stroke; a spot ink's tint through its colour space. */
export function colorOp(color: Color, target: 'fill' | 'stroke'): string {
  const values = color.values.map(num).join(' ');
  const fill = target === 'fill';
  if (color.space === 'rgb') return `${values} ${fill ? 'rg' : 'RG'}`;
  if (color.space === 'cmyk') return `${values} ${fill ? 'k' : 'K'}`;
  return `/${spotResource(color.spot)} ${fill ? 'cs' : 'CS'} ${values} ${fill ? 'scn' : 'SCN'}`;
}

/** The shared resource name of a spot ink's colour space (palette keys are plain identifiers). */
export function spotResource(spot: SpotInk): string {
  return `CS${spot.key}`;
}

/** A value kept as written: a number, name, string, boolean or null. */
export class Raw {
  constructor(readonly text: string) {}
}
/** An indirect reference, `n 0 R`. */
export class Ref {
  constructor(readonly n: number) {}
}
export type Value = Raw | Ref | Value[] | Dict;
export type Dict = Map<string, Value>;

export function refOf(value: Value | undefined): number {
  if (!(value instanceof Ref)) throw new Error('expected an indirect reference');
  return value.n;
}

export function optionalRef(value: Value | undefined): number | null {
  return value === undefined ? null : refOf(value);
}

export function rawOf(value: Value | undefined): string {
  if (!(value instanceof Raw)) throw new Error('expected a number');
  return value.text;
}

/** Every object number a value refers to. */
export function refsIn(value: Value | undefined): number[] {
  if (value === undefined || value instanceof Raw) return [];
  if (value instanceof Ref) return [value.n];
  return (Array.isArray(value) ? value : [...value.values()]).flatMap(refsIn);
}

/** A value's text, references renumbered, dictionaries laid out as pdfkit lays them out. */
export function serialize(value: Value, map: (n: number) => number): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Ref) return `${map(value.n)} 0 R`;
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v, map)).join(' ')}]`;
  return `<<\n${[...value].map(([k, v]) => `/${k} ${serialize(v, map)}`).join('\n')}\n>>`;
}

/** Parses the dictionary at the start of `text` (the objects a reader walks). */
export function parseDict(text: string): Dict {
  const dict = parseValue(text);
  if (!(dict instanceof Map)) throw new Error('expected a dictionary');
  return dict;
}

/** Parses the value at the start of `text`: a dictionary, an array, or a number, name or string. */
export function parseValue(text: string): Value {
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
  return value();
}

const TOKEN = /<<|>>|\[|\]|\((?:[^\\)]|\\[\s\S])*\)|<[0-9A-Fa-f\s]*>|\/[^\s/<>[\]()]*|[^\s/<>[\]()]+/g;

/**
 * A literal string (pdfkit escapes parentheses and newlines inside them, so none ends early) or an
 * indirect reference. Matching strings first keeps reference-like text inside one untouched.
 */
export const STRING_OR_REF = /\((?:[^\\)]|\\[\s\S])*\)|\b(\d+) (\d+) R\b/g;

/** An object's text with every indirect reference's object number mapped. */
export function renumberRefs(head: string, map: (n: number) => number): string {
  return head.replace(STRING_OR_REF, (match, n: string | undefined) =>
    n === undefined ? match : `${map(Number(n))} 0 R`,
  );
}

/** A dictionary's text with one more entry, a reference, added last. */
export function withEntry(head: string, key: string, ref: number): string {
  const end = head.lastIndexOf('>>');
  return `${head.slice(0, end)}/${key} ${ref} 0 R\n>>`;
}

/** A dictionary's text without its entry `key`, a reference (as Platen writes them: one a line). */
export function withoutRefEntry(head: string, key: string): string {
  return head.replace(new RegExp(`\\n/${key} \\d+ 0 R(?=\\n)`), '');
}

/**
 * A text string as pdfkit writes one: as it is when it is ASCII, else UTF-16BE with a byte-order mark;
 * then line breaks, parentheses and backslashes escaped.
 */
export function pdfString(text: string): string {
  // eslint-disable-next-line no-control-regex
  const bytes = /[^\x00-\x7f]/.test(text)
    ? Buffer.from(`\ufeff${text}`, 'utf16le').swap16().toString('latin1')
    : text;
  return `(${bytes.replace(/[\n\r\t\b\f()\\]/g, (c) => STRING_ESCAPES[c]!)})`;
}

/** A text string as a hex string of UTF-16BE with its byte-order mark: any text, in ASCII (for content streams). */
export function pdfHexText(text: string): string {
  return `<FEFF${Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase()}>`;
}

const STRING_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\\': '\\\\',
  '(': '\\(',
  ')': '\\)',
};
