import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { asDoc } from '../../src/pdf/pdfkit.js';
import { PdfFile } from '../../src/pdf/reader.js';
import {
  type ObjectSink,
  Outline,
  PageLabels,
  pageLabel,
  RecordParts,
  recordPart,
} from '../../src/pdf/structures.js';
import { pdfString } from '../../src/pdf/syntax.js';

/** The print-file structures' writer, as a document and the joiner use it, over a sink that keeps what it is given. */
function sink(): ObjectSink & { objects: Map<number, string>; order: number[] } {
  let next = 0;
  const objects = new Map<number, string>();
  const order: number[] = [];
  return {
    objects,
    order,
    allocate: () => ++next,
    write(n, head) {
      expect(objects.has(n)).toBe(false);
      objects.set(n, head);
      order.push(n);
    },
  };
}

describe('Outline', () => {
  it('links runs of items end to end, holding the last back until the next run or the end', () => {
    const out = sink();
    const outline = new Outline(out);
    const root = outline.parent;
    // A document's one-item run, then a joined part's chain of two (already linked to each other).
    const a = out.allocate();
    outline.holdLast(a, outline.linkFirst(a, '<<\n/Title (a)\n>>', 1));
    expect(out.objects.has(a)).toBe(false);
    const [b, c] = [out.allocate(), out.allocate()];
    out.write(b, outline.linkFirst(b, `<<\n/Title (b)\n/Next ${c} 0 R\n>>`, 2));
    outline.holdLast(c, `<<\n/Title (c)\n/Prev ${b} 0 R\n>>`);
    expect(outline.end()).toBe(root);
    expect(out.objects.get(a)).toBe(`<<\n/Title (a)\n/Next ${b} 0 R\n>>`);
    expect(out.objects.get(b)).toBe(`<<\n/Title (b)\n/Next ${c} 0 R\n/Prev ${a} 0 R\n>>`);
    expect(out.objects.get(c)).toBe(`<<\n/Title (c)\n/Prev ${b} 0 R\n>>`);
    expect(out.objects.get(root)).toBe(`<<\n/Type /Outlines\n/First ${a} 0 R\n/Last ${c} 0 R\n/Count 3\n>>`);
  });

  it('writes nothing without items', () => {
    const out = sink();
    expect(new Outline(out).end()).toBeNull();
    expect(out.objects.size).toBe(0);
  });
});

describe('PageLabels', () => {
  it('writes leaves of 4,096 labels as they fill, then a root over them', () => {
    const out = sink();
    const labels = new PageLabels(out);
    for (let i = 0; i < 4097; i++) labels.add(2 * i, pageLabel(String(i + 1), i === 4096 ? 2 : 1));
    expect(out.objects.size).toBe(1);
    const root = labels.end()!;
    const [first, second] = out.order;
    expect(out.objects.get(first!)).toMatch(
      /^<<\n\/Limits \[0 8190\]\n\/Nums \[0 <<\n\/P \(1\)\n>> 2 <<\n\/P \(2\)\n>>/,
    );
    expect(out.objects.get(second!)).toBe(
      '<<\n/Limits [8192 8192]\n/Nums [8192 <<\n/S /D\n/P (4097-)\n>>]\n>>',
    );
    expect(out.objects.get(root)).toBe(`<<\n/Kids [${first} 0 R ${second} 0 R]\n>>`);
    expect(new PageLabels(sink()).end()).toBeNull();
  });
});

describe('RecordParts', () => {
  it('writes the node of records and, given their level, the DPartRoot naming it and its parent', () => {
    const out = sink();
    const records = new RecordParts(out);
    const node = records.parent;
    const children = Array.from({ length: 4097 }, () => out.allocate());
    for (const child of children) records.add(child);
    const root = records.end(1)!;
    expect(out.objects.get(node)).toBe(
      `<<\n/Type /DPart\n/Parent ${root} 0 R\n/DParts [[${children
        .slice(0, 4096)
        .map((n) => `${n} 0 R`)
        .join(' ')}] [${children[4096]} 0 R]]\n>>`,
    );
    expect(out.objects.get(root)).toBe(
      `<<\n/Type /DPartRoot\n/DPartRootNode ${node} 0 R\n/RecordLevel 1\n/NodeNameList [/Document /Record]\n>>`,
    );
  });

  it('writes an empty node and no root for an imposed file, and nothing when never asked for', () => {
    const out = sink();
    const records = new RecordParts(out);
    const node = records.parent;
    expect(records.end(null)).toBeNull();
    expect(out.objects.get(node)).toBe('<<\n/Type /DPart\n/DParts []\n>>');
    expect(new RecordParts(sink()).end(1)).toBeNull();
  });

  it('names a record’s pages and its hash', () => {
    expect(recordPart(3, 'ab12', 7, null)).toBe(
      '<<\n/Parent 3 0 R\n/DPM <<\n/RecordSHA256 (ab12)\n>>\n/Start 7 0 R\n>>',
    );
    expect(recordPart(3, 'ab12', 7, 9)).toBe(
      '<<\n/Parent 3 0 R\n/DPM <<\n/RecordSHA256 (ab12)\n>>\n/Start 7 0 R\n/End 9 0 R\n>>',
    );
  });
});

describe('pdfString', () => {
  it('writes a text string as pdfkit does', async () => {
    const texts = [
      'Row 12',
      'José Álvarez',
      'O’Brien (née Smith) \\ back',
      'line\nbreak\ttab\r',
      '東京 🙂',
      '',
    ];
    const doc = new PDFDocument({ autoFirstPage: false, font: null as unknown as string, compress: false });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise((resolve) => doc.on('end', resolve));
    const ids = texts.map((text) => {
      const ref = asDoc(doc).ref({ T: new String(text) });
      ref.end();
      return ref.id;
    });
    doc.end();
    await done;
    const file = new PdfFile(Buffer.concat(chunks));
    expect(ids.map((n) => file.objects.get(n)!.head)).toEqual(
      texts.map((text) => `<<\n/T ${pdfString(text)}\n>>`),
    );
  });
});
