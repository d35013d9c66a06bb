import { createHash } from 'node:crypto';

/**
 * The XMP packet of a print file written to a standard: the identification schemas PDF/X-4 asks for
 * (ISO 15930-7:2010: pdfxid:GTS_PDFXVersion; the document's title, dates, ids, rendition
 * class and trapping, as its Info dictionary says them) and, for a merged drop, PDF/VT-1's
 * (ISO 16612-2:2010: pdfvtid:GTS_PDFVTVersion and GTS_PDFVTModDate). A single document
 * (render/document.ts) and the joiner of a drop's parts (render/join.ts) both write it with this.
 */

export interface XmpFields {
  title: string;
  producer: string;
  creatorTool: string;
  /** The Info dictionary's CreationDate and ModDate: the metadata is dated the same. */
  created: Date;
  modified: Date;
  /** `uuid:` URIs: the document (the same for every rendering of the same pieces) and this rendering. */
  documentId: string;
  instanceId: string;
  /** `pdfxid:GTS_PDFXVersion`, e.g. `PDF/X-4`. */
  pdfx: string;
  /** A PDF/VT-1 file (a merged drop): `pdfvtid:GTS_PDFVTVersion`. */
  pdfvt?: boolean;
  /** A tagged single piece, PDF/UA-1 as well (ISO 14289-1, 5): `pdfuaid:part`. */
  pdfua?: boolean;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text as XML character data or an attribute value, its five special characters escaped. */
export function xmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** An XMP date (ISO 8601, to the second, UTC), as the Info dictionary's `D:` dates are written. */
function xmpDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A `uuid:` URI derived from what identifies a document, so the same input gives the same id. */
export function uuidFrom(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  // A name-based UUID's layout (RFC 9562: version 8, variant 10) over the digest's first 128 bits.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The whole packet, with room to be edited in place (the trailing padding XMP recommends). */
export function xmpPacket(f: XmpFields): string {
  const vt = f.pdfvt
    ? `
  <rdf:Description rdf:about="" xmlns:pdfvtid="http://www.npes.org/pdfvt/ns/id/">
   <pdfvtid:GTS_PDFVTVersion>PDF/VT-1</pdfvtid:GTS_PDFVTVersion>
   <pdfvtid:GTS_PDFVTModDate>${xmpDate(f.modified)}</pdfvtid:GTS_PDFVTModDate>
  </rdf:Description>`
    : '';
  const ua = f.pdfua
    ? `
  <rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
   <pdfuaid:part>1</pdfuaid:part>
  </rdf:Description>`
    : '';
  const body = `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${xmlText(f.title)}</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreateDate>${xmpDate(f.created)}</xmp:CreateDate>
   <xmp:ModifyDate>${xmpDate(f.modified)}</xmp:ModifyDate>
   <xmp:MetadataDate>${xmpDate(f.modified)}</xmp:MetadataDate>
   <xmp:CreatorTool>${xmlText(f.creatorTool)}</xmp:CreatorTool>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
   <xmpMM:DocumentID>${f.documentId}</xmpMM:DocumentID>
   <xmpMM:InstanceID>${f.instanceId}</xmpMM:InstanceID>
   <xmpMM:VersionID>1</xmpMM:VersionID>
   <xmpMM:RenditionClass>default</xmpMM:RenditionClass>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>${xmlText(f.producer)}</pdf:Producer>
   <pdf:Trapped>False</pdf:Trapped>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/">
   <pdfxid:GTS_PDFXVersion>${xmlText(f.pdfx)}</pdfxid:GTS_PDFXVersion>
  </rdf:Description>${vt}${ua}
 </rdf:RDF>
</x:xmpmeta>
`;
  return `${body}${`${' '.repeat(99)}\n`.repeat(20)}<?xpacket end="w"?>`;
}

/**
 * The fields of a packet xmpPacket wrote (a drop's part), or null when it is not one: the joiner
 * writes the drop's own packet from its first part's.
 */
export function readXmpPacket(packet: string): XmpFields | null {
  const value = (pattern: string): string | undefined =>
    new RegExp(`${pattern}([^<]*)<`)
      .exec(packet)?.[1]
      ?.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_UNESCAPES[name]!);
  const title = value('<dc:title><rdf:Alt><rdf:li xml:lang="x-default">');
  const producer = value('<pdf:Producer>');
  const creatorTool = value('<xmp:CreatorTool>');
  const created = value('<xmp:CreateDate>');
  const modified = value('<xmp:ModifyDate>');
  const documentId = value('<xmpMM:DocumentID>');
  const instanceId = value('<xmpMM:InstanceID>');
  const pdfx = value('<pdfxid:GTS_PDFXVersion>');
  if (
    title === undefined ||
    producer === undefined ||
    creatorTool === undefined ||
    created === undefined ||
    modified === undefined ||
    documentId === undefined ||
    instanceId === undefined ||
    pdfx === undefined
  )
    return null;
  return {
    title,
    producer,
    creatorTool,
    created: new Date(created),
    modified: new Date(modified),
    documentId,
    instanceId,
    pdfx,
  };
}

const XML_UNESCAPES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
