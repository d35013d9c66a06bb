import { SaxesParser, type SaxesTagNS } from 'saxes';

/**
 * The simple properties of an XMP packet (ISO 16684-1), as the PDF/X and PDF/VT identification
 * needs them: each property of a top-level rdf:Description, written as an attribute or as an
 * element, keyed by its namespace URI and local name. A property whose value is an rdf:Alt, Seq or
 * Bag (dc:title) reads as its first item. An XMP packet that is not well-formed XML is an error.
 */
export type XmpProperties = ReadonlyMap<string, string>;

export const XMP_NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  xmp: 'http://ns.adobe.com/xap/1.0/',
  xmpMM: 'http://ns.adobe.com/xap/1.0/mm/',
  pdf: 'http://ns.adobe.com/pdf/1.3/',
  pdfxid: 'http://www.npes.org/pdfx/ns/id/',
  pdfvtid: 'http://www.npes.org/pdfvt/ns/id/',
} as const;

/** The key a property is found under: `xmpKey('pdfxid', 'GTS_PDFXVersion')`. */
export function xmpKey(prefix: keyof typeof XMP_NS, name: string): string {
  return `${XMP_NS[prefix]}${name}`;
}

export class XmpError extends Error {}

export function readXmp(text: string): XmpProperties {
  const properties = new Map<string, string>();
  const parser = new SaxesParser({ xmlns: true });
  /** The open elements, outermost first. */
  const open: SaxesTagNS[] = [];
  /** The property element being read (a child of a top-level Description) and its text so far. */
  let property: { key: string; depth: number; text: string } | null = null;
  let sawRdf = false;
  parser.on('doctype', () => {
    throw new XmpError('the XMP packet declares a DOCTYPE');
  });
  parser.on('opentag', (tag) => {
    const parent = open.at(-1);
    open.push(tag);
    if (tag.uri === XMP_NS.rdf && tag.local === 'RDF') sawRdf = true;
    const isDescription =
      tag.uri === XMP_NS.rdf &&
      tag.local === 'Description' &&
      parent?.uri === XMP_NS.rdf &&
      parent.local === 'RDF';
    if (isDescription) {
      for (const attribute of Object.values(tag.attributes)) {
        if (attribute.uri && attribute.uri !== XMP_NS.rdf && attribute.prefix !== 'xmlns')
          properties.set(`${attribute.uri}${attribute.local}`, attribute.value);
      }
      return;
    }
    const grand = open.at(-3);
    if (
      property === null &&
      parent?.uri === XMP_NS.rdf &&
      parent.local === 'Description' &&
      grand?.uri === XMP_NS.rdf &&
      grand.local === 'RDF'
    )
      property = { key: `${tag.uri}${tag.local}`, depth: open.length, text: '' };
  });
  parser.on('text', (text) => {
    // The first item of an array is the value read: later items' text is not added.
    if (property && !(property.text.trim() !== '' && open.at(-1)?.local === 'li')) property.text += text;
  });
  parser.on('closetag', () => {
    if (property && open.length === property.depth) {
      if (!properties.has(property.key)) properties.set(property.key, property.text.trim());
      property = null;
    }
    open.pop();
  });
  // The packet wrapper (<?xpacket?>) is a processing instruction, which the parser accepts.
  try {
    parser.write(text).close();
  } catch (error) {
    throw new XmpError(`the XMP packet is not well-formed XML (${(error as Error).message})`);
  }
  if (!sawRdf) throw new XmpError('the XMP packet has no rdf:RDF');
  return properties;
}

/** Milliseconds since the epoch of an XMP date (ISO 8601 as XMP allows it), or null. */
export function xmpDate(value: string | undefined): number | null {
  const match =
    /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?)?)?$/.exec(
      value?.trim() ?? '',
    );
  if (!match) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', zone] = match;
  const offset = zone === undefined || zone === 'Z' ? '+00:00' : zone;
  const time = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset === '+00:00' ? 'Z' : offset}`);
  return Number.isNaN(time) ? null : time;
}
