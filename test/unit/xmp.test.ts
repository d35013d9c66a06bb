import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { readXmpPacket, uuidFrom, type XmpFields, xmpPacket } from '../../src/pdf/xmp.js';

const FIELDS: XmpFields = {
  title: `Smith & Sons <Ltd> "Ocean" 'Bay' — Chloé`,
  producer: 'Platen (pdfkit)',
  creatorTool: 'Platen',
  created: new Date(Date.UTC(2026, 11, 6, 21, 58, 10, 500)),
  modified: new Date(Date.UTC(2026, 11, 6, 21, 58, 10, 500)),
  documentId: uuidFrom('postcard-6x4', '1', 'ab12'),
  instanceId: uuidFrom('instance'),
  pdfx: 'PDF/X-4',
};

/** Every element's text, by element name, parsed as XML (throws on XML that is not well formed). */
function parse(packet: string): Map<string, string> {
  const parser = new SaxesParser({ xmlns: true });
  const found = new Map<string, string>();
  let open: string | null = null;
  parser.on('opentag', (tag) => (open = tag.name));
  parser.on('text', (text) => {
    if (open && text.trim()) found.set(open, text);
  });
  parser.on('closetag', () => (open = null));
  parser.write(packet.slice(packet.indexOf('<x:xmpmeta'), packet.lastIndexOf('<?xpacket end'))).close();
  return found;
}

describe('the XMP packet of a file written to a standard', () => {
  it('is well-formed XML holding the title, dates, ids and identification as given', () => {
    const values = parse(xmpPacket(FIELDS));
    expect(values.get('rdf:li')).toBe(FIELDS.title);
    expect(values.get('xmp:CreateDate')).toBe('2026-12-06T21:58:10Z');
    expect(values.get('xmp:ModifyDate')).toBe('2026-12-06T21:58:10Z');
    expect(values.get('xmp:MetadataDate')).toBe('2026-12-06T21:58:10Z');
    expect(values.get('xmpMM:DocumentID')).toBe(FIELDS.documentId);
    expect(values.get('xmpMM:RenditionClass')).toBe('default');
    expect(values.get('pdf:Trapped')).toBe('False');
    expect(values.get('pdfxid:GTS_PDFXVersion')).toBe('PDF/X-4');
    expect(values.has('pdfvtid:GTS_PDFVTVersion')).toBe(false);
  });

  it('names PDF/VT-1 and its date for a merged drop', () => {
    const values = parse(xmpPacket({ ...FIELDS, pdfvt: true }));
    expect(values.get('pdfvtid:GTS_PDFVTVersion')).toBe('PDF/VT-1');
    expect(values.get('pdfvtid:GTS_PDFVTModDate')).toBe('2026-12-06T21:58:10Z');
  });

  it('is read back to its fields (to the second), and another packet to none', () => {
    expect(readXmpPacket(xmpPacket(FIELDS))).toEqual({
      ...FIELDS,
      created: new Date(Date.UTC(2026, 11, 6, 21, 58, 10)),
      modified: new Date(Date.UTC(2026, 11, 6, 21, 58, 10)),
    });
    expect(readXmpPacket('<x:xmpmeta><pdf:Producer>PDFKit</pdf:Producer></x:xmpmeta>')).toBeNull();
  });

  it('derives ids as name-based UUIDs: the same parts give the same id', () => {
    expect(uuidFrom('a', 'b')).toBe(uuidFrom('a', 'b'));
    expect(uuidFrom('a', 'b')).not.toBe(uuidFrom('a', 'c'));
    expect(uuidFrom('a')).toMatch(
      /^uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
