/**
 * A minimal PDF/X-4 file (and a PDF/VT-1 drop of two records) written by hand, object by object, so
 * that a test can break one rule and see the checker name exactly that rule. Nothing of Platen's
 * writer is used: the file is what the standards' text asks for, laid out plainly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { REPO_ROOT } from './repo.js';

/** One object: its dictionary's entries as PDF text, and its stream's data, if it is a stream. */
export interface HandObject {
  dict: Map<string, string>;
  stream?: Buffer;
}

export interface HandPdf {
  /** The first line, `%PDF-1.6`. */
  header: string;
  objects: Map<number, HandObject>;
  trailer: Map<string, string>;
  /** The XMP properties (prefix:name → value), written as elements of one rdf:Description. */
  xmp: Map<string, string>;
}

export const OBJ = {
  catalog: 1,
  pages: 2,
  page: 3,
  content: 4,
  metadata: 5,
  intent: 6,
  profile: 7,
  font: 8,
  descriptor: 9,
  fontFile: 10,
  info: 11,
  /** PDF/VT-1 only: */
  page2: 12,
  content2: 13,
  dpartRoot: 14,
  rootNode: 15,
  leaf1: 16,
  leaf2: 17,
} as const;

const PROFILE = readFileSync(path.join(REPO_ROOT, 'assets/color/PlatenFOGRA39L.icc'));
const FONT = readFileSync(path.join(REPO_ROOT, 'assets/fonts/SourceSans3-Bold.ttf'));

const entries = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

/** The parts of a PDF/X-4 file of one page: CMYK text in an embedded TrueType font, FOGRA39. */
export function pdfX4Parts(): HandPdf {
  const objects = new Map<number, HandObject>();
  objects.set(OBJ.catalog, {
    dict: entries({
      Type: '/Catalog',
      Pages: `${OBJ.pages} 0 R`,
      Metadata: `${OBJ.metadata} 0 R`,
      OutputIntents: `[${OBJ.intent} 0 R]`,
    }),
  });
  objects.set(OBJ.pages, { dict: entries({ Type: '/Pages', Kids: `[${OBJ.page} 0 R]`, Count: '1' }) });
  objects.set(OBJ.page, {
    dict: entries({
      Type: '/Page',
      Parent: `${OBJ.pages} 0 R`,
      MediaBox: '[0 0 450 306]',
      BleedBox: '[9 9 441 297]',
      TrimBox: '[18 18 432 288]',
      Resources: `<< /Font << /F1 ${OBJ.font} 0 R >> >>`,
      Contents: `${OBJ.content} 0 R`,
    }),
  });
  objects.set(OBJ.content, {
    dict: new Map(),
    stream: Buffer.from('0 0 0 1 k 9 9 432 20 re f\nBT /F1 24 Tf 1 0 0 1 40 150 Tm (H) Tj ET\n'),
  });
  objects.set(OBJ.metadata, { dict: entries({ Type: '/Metadata', Subtype: '/XML' }) });
  objects.set(OBJ.intent, {
    dict: entries({
      Type: '/OutputIntent',
      S: '/GTS_PDFX',
      OutputConditionIdentifier: '(FOGRA39)',
      RegistryName: '(http://www.color.org)',
      Info: '(Coated FOGRA39)',
      DestOutputProfile: `${OBJ.profile} 0 R`,
    }),
  });
  objects.set(OBJ.profile, {
    dict: entries({ N: '4', Filter: '/FlateDecode' }),
    stream: deflateSync(PROFILE),
  });
  objects.set(OBJ.font, {
    dict: entries({
      Type: '/Font',
      Subtype: '/TrueType',
      BaseFont: '/SourceSans3-Bold',
      FirstChar: '72',
      LastChar: '72',
      Widths: '[600]',
      Encoding: '/WinAnsiEncoding',
      FontDescriptor: `${OBJ.descriptor} 0 R`,
    }),
  });
  objects.set(OBJ.descriptor, {
    dict: entries({
      Type: '/FontDescriptor',
      FontName: '/SourceSans3-Bold',
      Flags: '32',
      FontBBox: '[-200 -300 1200 1000]',
      ItalicAngle: '0',
      Ascent: '1024',
      Descent: '-400',
      CapHeight: '660',
      StemV: '120',
      FontFile2: `${OBJ.fontFile} 0 R`,
    }),
  });
  objects.set(OBJ.fontFile, {
    dict: entries({ Length1: String(FONT.length), Filter: '/FlateDecode' }),
    stream: deflateSync(FONT),
  });
  objects.set(OBJ.info, {
    dict: entries({
      Title: '(A hand-made PDF/X-4)',
      CreationDate: '(D:20261206120000Z)',
      ModDate: '(D:20261206120000Z)',
      Trapped: '/False',
      GTS_PDFXVersion: '(PDF/X-4)',
    }),
  });
  return {
    header: '%PDF-1.6',
    objects,
    trailer: entries({
      Root: `${OBJ.catalog} 0 R`,
      Info: `${OBJ.info} 0 R`,
      ID: '[<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]',
    }),
    xmp: entries({
      'pdfxid:GTS_PDFXVersion': 'PDF/X-4',
      'xmp:CreateDate': '2026-12-06T12:00:00Z',
      'xmp:ModifyDate': '2026-12-06T12:00:00Z',
      'xmp:MetadataDate': '2026-12-06T12:00:00Z',
      'xmpMM:DocumentID': 'uuid:6f1e1d2c-0000-4000-8000-000000000001',
      'xmpMM:VersionID': '1',
      'xmpMM:RenditionClass': 'default',
      'pdf:Trapped': 'False',
      'dc:title': 'A hand-made PDF/X-4',
    }),
  };
}

/** The parts of a PDF/VT-1 drop: the PDF/X-4 file with a second record's page and the DPart tree. */
export function pdfVt1Parts(): HandPdf {
  const pdf = pdfX4Parts();
  const o = pdf.objects;
  o.get(OBJ.catalog)!.dict.set('DPartRoot', `${OBJ.dpartRoot} 0 R`);
  o.get(OBJ.pages)!.dict.set('Kids', `[${OBJ.page} 0 R ${OBJ.page2} 0 R]`);
  o.get(OBJ.pages)!.dict.set('Count', '2');
  o.get(OBJ.page)!.dict.set('DPart', `${OBJ.leaf1} 0 R`);
  const page2 = new Map(o.get(OBJ.page)!.dict);
  page2.set('Contents', `${OBJ.content2} 0 R`);
  page2.set('DPart', `${OBJ.leaf2} 0 R`);
  o.set(OBJ.page2, { dict: page2 });
  o.set(OBJ.content2, { dict: new Map(), stream: o.get(OBJ.content)!.stream! });
  o.set(OBJ.dpartRoot, {
    dict: entries({
      Type: '/DPartRoot',
      DPartRootNode: `${OBJ.rootNode} 0 R`,
      RecordLevel: '1',
      NodeNameList: '[/Drop /Record]',
    }),
  });
  o.set(OBJ.rootNode, {
    dict: entries({
      Type: '/DPart',
      Parent: `${OBJ.dpartRoot} 0 R`,
      DParts: `[[${OBJ.leaf1} 0 R ${OBJ.leaf2} 0 R]]`,
    }),
  });
  for (const [leaf, page, hash] of [
    [OBJ.leaf1, OBJ.page, 'a1'],
    [OBJ.leaf2, OBJ.page2, 'b2'],
  ] as const)
    o.set(leaf, {
      dict: entries({
        Parent: `${OBJ.rootNode} 0 R`,
        DPM: `<< /RecordSHA256 (${hash.repeat(32)}) >>`,
        Start: `${page} 0 R`,
      }),
    });
  pdf.xmp.set('pdfvtid:GTS_PDFVTVersion', 'PDF/VT-1');
  pdf.objects.get(OBJ.info)!.dict.set('Title', '(A hand-made PDF/VT-1)');
  pdf.xmp.set('dc:title', 'A hand-made PDF/VT-1');
  return pdf;
}

const NAMESPACES: Record<string, string> = {
  dc: 'http://purl.org/dc/elements/1.1/',
  xmp: 'http://ns.adobe.com/xap/1.0/',
  xmpMM: 'http://ns.adobe.com/xap/1.0/mm/',
  pdf: 'http://ns.adobe.com/pdf/1.3/',
  pdfxid: 'http://www.npes.org/pdfx/ns/id/',
  pdfvtid: 'http://www.npes.org/pdfvt/ns/id/',
};

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** An XMP packet of the properties; dc:title as the language alternative XMP makes it. */
export function xmpPacket(properties: Map<string, string>): string {
  const body = [...properties]
    .map(([key, value]) =>
      key === 'dc:title'
        ? `<dc:title><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(value)}</rdf:li></rdf:Alt></dc:title>`
        : `<${key}>${escapeXml(value)}</${key}>`,
    )
    .join('\n   ');
  const xmlns = Object.entries(NAMESPACES)
    .map(([prefix, uri]) => `xmlns:${prefix}="${uri}"`)
    .join(' ');
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" ${xmlns}>
   ${body}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

/** The file: header, objects in number order, a cross-reference table and the trailer. */
export function writeHandPdf(pdf: HandPdf): Buffer {
  const metadata = pdf.objects.get(OBJ.metadata);
  if (metadata && !metadata.stream) metadata.stream = Buffer.from(xmpPacket(pdf.xmp), 'utf8');
  const chunks: Buffer[] = [Buffer.from(`${pdf.header}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')];
  let at = chunks[0]!.length;
  const offsets = new Map<number, number>();
  const push = (chunk: Buffer) => {
    chunks.push(chunk);
    at += chunk.length;
  };
  const size = Math.max(...pdf.objects.keys()) + 1;
  for (const n of [...pdf.objects.keys()].sort((a, b) => a - b)) {
    const { dict, stream } = pdf.objects.get(n)!;
    offsets.set(n, at);
    const entriesText = [...dict].map(([k, v]) => `/${k} ${v}`);
    if (stream) entriesText.push(`/Length ${stream.length}`);
    push(Buffer.from(`${n} 0 obj\n<< ${entriesText.join('\n')} >>\n`, 'latin1'));
    if (stream) {
      push(Buffer.from('stream\n', 'latin1'));
      push(stream);
      push(Buffer.from('\nendstream\n', 'latin1'));
    }
    push(Buffer.from('endobj\n', 'latin1'));
  }
  const xref = at;
  const rows = ['0000000000 65535 f \n'];
  for (let n = 1; n < size; n++) {
    const offset = offsets.get(n);
    rows.push(
      offset === undefined ? '0000000000 65535 f \n' : `${String(offset).padStart(10, '0')} 00000 n \n`,
    );
  }
  const trailer = [`/Size ${size}`, ...[...pdf.trailer].map(([k, v]) => `/${k} ${v}`)].join('\n');
  push(
    Buffer.from(
      `xref\n0 ${size}\n${rows.join('')}trailer\n<< ${trailer} >>\nstartxref\n${xref}\n%%EOF\n`,
      'latin1',
    ),
  );
  return Buffer.concat(chunks);
}
