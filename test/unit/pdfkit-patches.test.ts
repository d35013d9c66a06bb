import PDFDocument from 'pdfkit';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { requireVersion } from '../../src/pdf/package-version.js';
import { asDoc, InfoName, installPdfkitPatches, setXmpPacket, takeOutput } from '../../src/pdf/pdfkit.js';
import { PdfFile } from '../../src/pdf/reader.js';
import { Raw, refOf } from '../../src/pdf/syntax.js';

/**
 * pdfkit's patches replace what every PDF is written with: each must write what stock pdfkit writes.
 * Each document here is written twice, with stock pdfkit (the methods as they were before the
 * patches, put back while it is written) and patched, at a fixed date (so its file ID is fixed too),
 * and the two files are compared whole.
 */

interface Methods {
  finalize: () => void;
  addInfo: () => void;
  endMetadata: () => void;
  end: () => void;
}
type Doc = InstanceType<typeof PDFDocument>;

const newDoc = (title: string) =>
  new PDFDocument({
    autoFirstPage: false,
    font: null as unknown as string,
    pdfVersion: '1.7',
    compress: true,
    info: { Title: title, CreationDate: new Date(Date.UTC(2026, 0, 1)) },
  });
const references = Object.getPrototypeOf((newDoc('') as unknown as { _root: object })._root) as {
  finalize: () => void;
};
const documents = PDFDocument.prototype as unknown as {
  _addInfo: () => void;
  endMetadata: () => void;
  end: () => void;
};
const methods = (): Methods => ({
  finalize: references.finalize,
  addInfo: documents._addInfo,
  endMetadata: documents.endMetadata,
  end: documents.end,
});
const stock = methods();
installPdfkitPatches();
const patched = methods();

function use(methods: Methods): void {
  references.finalize = methods.finalize;
  documents._addInfo = methods.addInfo;
  documents.endMetadata = methods.endMetadata;
  documents.end = methods.end;
}

async function write(methods: Methods, title: string, build: (doc: Doc) => void): Promise<Buffer> {
  const doc = newDoc(title);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  // Everything is written as end() runs; the stream hands it out later.
  use(methods);
  try {
    build(doc);
    doc.end();
  } finally {
    use(patched);
  }
  await done;
  return Buffer.concat(chunks);
}

/** Deterministic bytes: content-stream text that repeats as a page's does, or noise. */
function payload(length: number, kind: 'content' | 'noise'): Buffer {
  let seed = length;
  const next = () => (seed = (seed * 48271) % 0x7fffffff);
  if (kind === 'noise') return Buffer.from(Array.from({ length }, () => next() & 0xff));
  let text = '';
  while (text.length < length)
    text += `q\n1 0 0 1 ${next() % 600} ${next() % 800} cm\n/L${next() % 40} Do\nQ\nBT /F1 ${8 + (next() % 6)} Tf <00${(next() % 0xff).toString(16)}> Tj ET\n`;
  return Buffer.from(text.slice(0, length), 'latin1');
}

const PAYLOADS = [
  ...[1, 60, 300, 1_000, 4_000, 16_000, 33_000, 70_000].map((n) => payload(n, 'content')),
  ...[200, 5_000, 100_000].map((n) => payload(n, 'noise')),
];

function streams(file: PdfFile) {
  return [...file.objects].filter(([, object]) => object.stream !== null);
}

describe('pdfkit patches', () => {
  it('refuse a pdfkit other than the one they were written for', () => {
    expect(() => requireVersion('pdfkit', '0.20.2', 'the patches')).not.toThrow();
    expect(() => requireVersion('pdfkit', '0.17.0', 'the patches')).toThrow(
      /the patches patch pdfkit 0\.17\.0, but pdfkit 0\.20\.2 is installed/,
    );
  });

  it('deflate every stream to what stock pdfkit writes, but for the zlib header', async () => {
    const build = (doc: Doc) => {
      for (const data of PAYLOADS) doc.ref({}).end(data);
      doc
        .addPage({ size: [200, 200], margin: 0 })
        .rect(10, 10, 50, 50)
        .fill('#336699');
    };
    // Only this patch differs between the two.
    const withStockFinalize = { ...patched, finalize: stock.finalize };
    const [before, after] = [
      await write(withStockFinalize, 'Drop', build),
      await write(patched, 'Drop', build),
    ];
    const [was, is] = [new PdfFile(before), new PdfFile(after)];
    expect(streams(is).length).toBeGreaterThanOrEqual(PAYLOADS.length);
    expect(is.objects.size).toBe(was.objects.size);
    // Each stream inflates to the same bytes, and its deflated data is the same but for zlib's
    // two-byte header (which names the window size): so every other byte of the file is the same.
    const headers = new Set<number>();
    for (const [n, object] of streams(is)) {
      const stockObject = was.objects.get(n)!;
      expect(object.head).toBe(stockObject.head);
      expect(is.decoded(object).equals(was.decoded(stockObject))).toBe(true);
      if (!object.head.includes('/FlateDecode')) continue;
      expect(is.data(object).subarray(2).equals(was.data(stockObject).subarray(2))).toBe(true);
      headers.add(object.stream![0]).add(object.stream![0] + 1);
    }
    expect(patched.finalize).not.toBe(stock.finalize);
    expect(after.length).toBe(before.length);
    const differ = [...after.keys()].filter((i) => after[i] !== before[i]);
    // Small streams get a small window, which their header names.
    expect(differ.length).toBeGreaterThan(0);
    for (const i of differ) expect(headers.has(i)).toBe(true);
    const written = streams(is).map(([, object]) => is.decoded(object));
    for (const data of PAYLOADS) expect(written.some((stream) => stream.equals(data))).toBe(true);
  });

  it('write the XMP packet as stock pdfkit does when no Info value needs escaping', async () => {
    const title = 'Harbor Insurance — brochure for Chloé Köhler (ME-1234)';
    const [is, was] = [
      new PdfFile(await write(patched, title, () => undefined)),
      new PdfFile(await write(stock, title, () => undefined)),
    ];
    expect(is.objects.size).toBe(was.objects.size);
    for (const [n, object] of is.objects) {
      const stockObject = was.objects.get(n)!;
      // The one difference: stock pdfkit's stray lowercase `length` on the XMP stream.
      expect(object.head).toBe(stockObject.head.replace(/\/length \d+\n/, ''));
      if (object.stream) expect(is.data(object).equals(was.data(stockObject))).toBe(true);
    }
    const metadata = [...was.objects.values()].find((object) => object.head.includes('/Type /Metadata'))!;
    expect(metadata.head).toMatch(/\/length \d+\n/);
  });

  it('escape Info values in the XMP packet only, where stock pdfkit breaks it', async () => {
    const title = `Smith & Sons <Ltd> "Ocean" 'Bay'`;
    const read = async (methods: Methods) => {
      const file = new PdfFile(await write(methods, title, () => undefined));
      const metadata = [...file.objects.values()].find((object) => object.head.includes('/Type /Metadata'))!;
      return { xmp: file.data(metadata).toString('utf8'), info: file };
    };
    const is = await read(patched);
    const was = await read(stock);
    expect(xmlText(is.xmp, 'rdf:li')).toContain(title);
    expect(() => xmlText(was.xmp, 'rdf:li')).toThrow();
    expect(infoTitle(is.info)).toBe(infoTitle(was.info));
    expect(infoTitle(is.info)).toBe(`(Smith & Sons <Ltd> "Ocean" 'Bay')`);
  });

  it('write an Info name in the Info dictionary, every other Info value as stock pdfkit does', async () => {
    const trapped = (doc: Doc) =>
      void ((doc.info as Record<string, unknown>).Trapped = new InfoName('False'));
    const file = new PdfFile(await write(patched, 'Drop', trapped));
    const info = file.dict(refOf(file.trailer.get('Info')));
    expect(info.get('Trapped')).toEqual(new Raw('/False'));
    // No object is made for it: the file is stock pdfkit's without a Trapped entry, object for object.
    const without = new PdfFile(await write(stock, 'Drop', () => undefined));
    expect(file.objects.size).toBe(without.objects.size);
    expect(infoTitle(file)).toBe(infoTitle(without));
    expect(patched.end).not.toBe(stock.end);
  });

  it('write a packet the document was given instead of pdfkit’s, uncompressed', async () => {
    const packet =
      '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>';
    const file = new PdfFile(await write(patched, 'Drop', (doc) => setXmpPacket(asDoc(doc), () => packet)));
    const metadata = [...file.objects.values()].filter((object) => object.head.includes('/Type /Metadata'));
    expect(metadata).toHaveLength(1);
    expect(metadata[0]!.head).not.toMatch(/Filter/);
    expect(file.data(metadata[0]!).toString('utf8')).toBe(packet);
  });
});

describe('takeOutput', () => {
  const build = (doc: Doc, pages: number) => {
    for (let i = 0; i < pages; i++)
      doc
        .addPage({ size: [200, 200], margin: 0 })
        .rect(10, 10, 50 + i, 50)
        .fill('#336699');
  };

  it('hands over each byte as pdfkit writes it, before the event loop turns, and ends once', () => {
    const doc = newDoc('Taken');
    const chunks: Uint8Array[] = [];
    let ends = 0;
    takeOutput(
      asDoc(doc),
      (chunk) => chunks.push(chunk),
      () => (ends += 1),
    );
    const header = Buffer.concat(chunks).toString('latin1');
    build(doc, 3);
    // Three pages are written (each page is written when the next one starts), synchronously.
    const written = Buffer.concat(chunks).length;
    doc.end();
    expect(header).toMatch(/^%PDF-1\.7\n%\xff\xff\xff\xff\n$/);
    expect(written).toBeGreaterThan(header.length + 300);
    expect(ends).toBe(1);
    const file = new PdfFile(Buffer.concat(chunks));
    expect(file.dict(refOf(file.trailer.get('Root'))).has('Pages')).toBe(true);
  });

  it('writes the bytes the stream would have given', async () => {
    const streamed = await write(patched, 'Same', (doc) => build(doc, 5));
    const doc = newDoc('Same');
    const chunks: Uint8Array[] = [];
    takeOutput(
      asDoc(doc),
      (chunk) => chunks.push(chunk),
      () => undefined,
    );
    build(doc, 5);
    doc.end();
    expect(Buffer.concat(chunks).equals(streamed)).toBe(true);
  });
});

/** The Info dictionary's Title, as written (pdfkit writes each Info value as an object of its own). */
function infoTitle(file: PdfFile): string {
  return file.objects.get(refOf(file.dict(refOf(file.trailer.get('Info'))).get('Title')))!.head;
}

/** The text of every element of this name, parsed as XML (throws on XML that is not well formed). */
function xmlText(xml: string, name: string): string[] {
  const parser = new SaxesParser();
  const texts: string[] = [];
  let inside = false;
  parser.on('opentag', (tag) => (inside = tag.name === name));
  parser.on('text', (text) => {
    if (inside) texts.push(text);
  });
  parser.on('closetag', () => (inside = false));
  parser
    .write(xml.slice(xml.indexOf('<x:xmpmeta'), xml.lastIndexOf('</x:xmpmeta>') + '</x:xmpmeta>'.length))
    .close();
  return texts;
}
