import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { PdfFile, UnreadablePdfError } from '../../src/pdf/reader.js';
import { refOf } from '../../src/pdf/syntax.js';

/** The one PDF reader (joiner and preflight): objects and streams exactly as written. */

async function written(build: (doc: InstanceType<typeof PDFDocument>) => void): Promise<Buffer> {
  const doc = new PDFDocument({ autoFirstPage: false, font: null as unknown as string, compress: false });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  build(doc);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

describe('PdfFile', () => {
  it('reads every stream to its last byte, line ends and all', async () => {
    const data = [
      'plain',
      'ends in CR\r',
      'ends in LF\n',
      'ends in CRLF\r\n',
      '\r\nstarts with one',
      'endstream\n',
    ];
    const refs: number[] = [];
    const file = new PdfFile(
      await written((doc) => {
        for (const text of data) {
          const ref = doc.ref({});
          ref.end(Buffer.from(text, 'latin1'));
          refs.push(ref.id);
        }
      }),
    );
    expect(refs.map((n) => file.data(file.objects.get(n)!).toString('latin1'))).toEqual(data);
    expect(file.dict(refOf(file.trailer.get('Root'))).get('Type')).toEqual(
      expect.objectContaining({ text: '/Catalog' }),
    );
  });

  it('refuses what has no cross-reference table', () => {
    expect(() => new PdfFile(Buffer.from('%PDF-1.7\nnot really\n'))).toThrow(UnreadablePdfError);
  });
});
