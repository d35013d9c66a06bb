/**
 * Tagged PDF for single on-screen pieces, as PDF/UA-1 (ISO 14289-1) asks: a structure tree (headings,
 * paragraphs, lists, figures with the template's alt text) of standard structure types, decorative
 * art as artifacts, everything painted inside marked content, the language of the document and of
 * each element in another, the title shown, and `pdfuaid` in the XMP; a print file of several pieces
 * stays untagged. (Right-to-left text in reading order: test/integration/type.test.ts.)
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate, withMarks } from '../../src/template/compile.js';
import { deref, pdfObjects, qpdfCheck, withPdfDocument, type PdfDict } from '../support/pdf.js';
import { cleanup, withTempDir } from '../support/files.js';
import { templateCopy } from '../support/packages.js';
import { renderSample, uncompressed } from '../support/print.js';
import { TEMPLATES_DIR } from '../support/repo.js';

const run = promisify(execFile);
const BROCHURE = path.join(TEMPLATES_DIR, 'insurance-brochure');
const MULTILINGUAL = path.join(TEMPLATES_DIR, 'multilingual-sample');

/** Standard structure types (ISO 32000-1, 14.8.4): any other needs a RoleMap entry. */
const STANDARD_TYPES = new Set(
  (
    'Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private P H H1 H2 H3 H4 H5 H6 ' +
    'L LI Lbl LBody Table TR TH TD THead TBody TFoot Span Quote Note Reference BibEntry Code Link Annot ' +
    'Ruby RB RT RP Warichu WT WP Figure Formula Form'
  ).split(' '),
);

/** Each marked-content sequence of a page, outermost only, as its tag and the text pdf.js reads in it. */
async function markedTexts(pdf: Buffer, page: number): Promise<{ tag: string; text: string }[]> {
  return withPdfDocument(pdf, async (doc) => {
    const { items } = await (await doc.getPage(page)).getTextContent({ includeMarkedContent: true });
    const sequences: { tag: string; text: string }[] = [];
    let depth = 0;
    for (const item of items) {
      if ('type' in item && (item.type === 'beginMarkedContentProps' || item.type === 'beginMarkedContent')) {
        if (depth++ === 0) sequences.push({ tag: (item as { tag?: string }).tag ?? '', text: '' });
      } else if ('type' in item && item.type === 'endMarkedContent') depth--;
      else if ('str' in item && depth > 0) sequences.at(-1)!.text += item.str;
    }
    return sequences;
  });
}

/** The structure elements of a tagged PDF (qpdf): each one's type and its own language, if any. */
async function structElements(pdf: Buffer): Promise<{ type: string; lang?: string }[]> {
  const objs = await pdfObjects(pdf);
  const elements: { type: string; lang?: string }[] = [];
  for (const { value } of objs.objects.values()) {
    const dict = value as PdfDict;
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) continue;
    // A structure element: its type (S) and its parent (P); pdfkit writes no optional /Type.
    if (typeof dict['/S'] !== 'string' || dict['/P'] === undefined) continue;
    const lang = dict['/Lang'];
    elements.push({
      type: (dict['/S'] as string).slice(1),
      ...(typeof lang === 'string' ? { lang: lang.replace(/^u:/, '') } : {}),
    });
  }
  return elements;
}

interface Node {
  role?: string;
  alt?: string;
  children?: Node[];
}

/** Each page's structure elements as `Role` or `Role: alt`, in order (pdfjs). */
async function structure(pdf: Buffer): Promise<string[][]> {
  return withPdfDocument(pdf, async (doc) => {
    const pages: string[][] = [];
    for (let i = 1; i <= doc.numPages; i++) {
      const tree = (await (await doc.getPage(i)).getStructTree()) as Node;
      const roles: string[] = [];
      const walk = (node: Node) => {
        if (node.role && node.role !== 'Root' && node.role !== 'Document')
          roles.push(node.alt ? `${node.role}: ${node.alt}` : node.role);
        for (const child of node.children ?? []) walk(child);
      };
      walk(tree);
      pages.push(roles);
    }
    return pages;
  });
}

/** The page content streams of a qpdf --qdf rewrite, in page order. */
function pageContents(qdf: string): string[] {
  return [
    ...qdf.matchAll(
      /%% Contents for page \d+\n(?:%%[^\n]*\n)*\d+ 0 obj\n<<[\s\S]*?>>\nstream\n([\s\S]*?)endstream/g,
    ),
  ].map((m) => m[1]!);
}

/**
 * How many painting operators (text, forms, paths) a content stream runs outside any marked
 * content; throws when its marked-content sequences do not balance.
 */
function unmarkedPainting(content: string): number {
  let depth = 0;
  let unmarked = 0;
  for (const line of content.split('\n')) {
    if (/ BDC$| BMC$/.test(line)) depth++;
    else if (line === 'EMC') depth--;
    else if (depth === 0 && /(^BT$| Do$| re$|^f$|^S$)/.test(line)) unmarked++;
  }
  if (depth !== 0) throw new Error(`marked content left open (depth ${depth})`);
  return unmarked;
}

describe('a single brochure', () => {
  let pdf: Buffer;
  beforeAll(async () => {
    pdf = await renderSample(BROCHURE);
  });

  it('is tagged, with its language and a title the viewer shows', async () => {
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    const info = await withTempDir('platen-tagged-', async (dir) => {
      const file = path.join(dir, 'b.pdf');
      await writeFile(file, pdf);
      return run('pdfinfo', [file]);
    });
    expect(info.stdout).toMatch(/^Tagged:\s+yes$/m);
    const objs = await pdfObjects(pdf);
    const root = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    expect(root['/Lang']).toBe('u:en-US');
    expect((deref(objs, root['/MarkInfo']) as PdfDict)['/Marked']).toBe(true);
    expect((deref(objs, root['/ViewerPreferences']) as PdfDict)['/DisplayDocTitle']).toBe(true);
    expect((deref(objs, root['/StructTreeRoot']) as PdfDict)['/Type']).toBe('/StructTreeRoot');
  });

  it('has an XMP metadata stream with the keys of one and no stray lowercase length', async () => {
    const objs = await pdfObjects(pdf);
    const root = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    const metadata = objs.objects.get(root['/Metadata'] as string)!;
    expect(metadata.isStream).toBe(true);
    expect(Object.keys(metadata.value as PdfDict).sort()).toEqual(['/Length', '/Subtype', '/Type']);
  });

  it('identifies itself as PDF/UA-1 in its XMP, the property’s schema described for PDF/A', async () => {
    const text = await uncompressed(pdf);
    expect(text).toMatch(/<pdfuaid:part>1<\/pdfuaid:part>/);
    expect(text).toMatch(
      /<pdfaSchema:namespaceURI>http:\/\/www\.aiim\.org\/pdfua\/ns\/id\/<\/pdfaSchema:namespaceURI>\s*<pdfaSchema:prefix>pdfuaid<\/pdfaSchema:prefix>/,
    );
    expect(text).toMatch(/<dc:title>\s*<rdf:Alt>\s*<rdf:li xml:lang="x-default">[^<]+<\/rdf:li>/);
  });

  it('embeds every font, each with a ToUnicode map, so its text reads as the characters it shows', async () => {
    const objs = await pdfObjects(pdf);
    const fonts = [...objs.objects.values()]
      .map(({ value }) => value as PdfDict)
      .filter(
        (dict) =>
          dict && typeof dict === 'object' && dict['/Type'] === '/Font' && dict['/Subtype'] === '/Type0',
      );
    expect(fonts.length).toBeGreaterThan(2);
    for (const font of fonts) expect(font['/ToUnicode']).toBeDefined();
    const descriptors = [...objs.objects.values()]
      .map(({ value }) => value as PdfDict)
      .filter((dict) => dict && typeof dict === 'object' && dict['/Type'] === '/FontDescriptor');
    expect(descriptors).toHaveLength(fonts.length);
    for (const descriptor of descriptors)
      expect(descriptor['/FontFile2'] ?? descriptor['/FontFile3']).toBeDefined();
  });

  it('uses standard structure types only, so it needs no RoleMap', async () => {
    const types = new Set((await structElements(pdf)).map((e) => e.type));
    expect([...types].filter((t) => !STANDARD_TYPES.has(t))).toEqual([]);
    expect(types).toContain('Document');
  });

  it('tags bulleted paragraphs as a list: each item its bullet as label and the rest as body', async () => {
    for (const [index, roles] of (await structure(pdf)).entries()) {
      const list = roles.indexOf('L');
      expect(list).toBeGreaterThan(0);
      // The list's three items follow it, each a label and a body.
      expect(roles.slice(list + 1, list + 10)).toEqual(Array(3).fill(['LI', 'Lbl', 'LBody']).flat());
      const marked = await markedTexts(pdf, index + 1);
      const labels = marked.filter((m) => m.tag === 'Lbl').map((m) => m.text.trim());
      expect(labels).toEqual(['•', '•', '•']);
      const bodies = marked.filter((m) => m.tag === 'LBody').map((m) => m.text.trim());
      expect(bodies).toHaveLength(3);
      for (const body of bodies) expect(body).toMatch(/^[A-Z*“]/);
    }
    const front = (await markedTexts(pdf, 1)).filter((m) => m.tag === 'LBody').map((m) => m.text.trim());
    expect(front).toContain('Options for wind, water backup and named-storm deductibles');
  });

  it('has headings, paragraphs and figures with the template’s alt text, in reading order', async () => {
    const [front, back] = await structure(pdf);
    expect(front!.slice(0, 3)).toEqual(['Figure: Harbor Mutual Insurance Agency', 'P', 'H1']);
    expect(front).toContain('Figure: Photo of your agent');
    expect(front).toContain('Figure: QR code linking to your personal quote page');
    expect(front!.filter((r) => r === 'H2').length).toBeGreaterThan(0);
    expect(back).toContain('H1');
    // Decorative art (header and footer art, cards) is not in the tree.
    const figures = [...front!, ...back!].filter((r) => r.startsWith('Figure'));
    expect(figures.every((f) => f.includes(': '))).toBe(true);
  });

  it('paints everything inside marked content: tagged elements or artifacts', async () => {
    const contents = pageContents(await uncompressed(pdf));
    expect(contents).toHaveLength(2);
    for (const content of contents) {
      expect(unmarkedPainting(content)).toBe(0);
      expect(content).toMatch(/\/Artifact <<\s*\/Type \/Layout\s*>> BDC/);
      expect(content).toMatch(/\/H1 <<\s*\/MCID \d+\s*>> BDC/);
    }
  });

  it('draws printer’s marks, when asked for, as Page artifacts (production aids)', async () => {
    const compiled = withMarks(await compileTemplate(BROCHURE), true);
    const sample = samples(compiled)[0]!;
    const marked = await renderToBuffer(compiled, [preparePiece(compiled, sample.record, sample.images)]);
    expect((await qpdfCheck(marked)).ok).toBe(true);
    const contents = pageContents(await uncompressed(marked));
    expect(contents).toHaveLength(2);
    for (const content of contents) {
      expect(content).toMatch(/\/Artifact <<\s*\/Type \/Page\s*>> BDC\n\/Marks Do\nEMC/);
      expect(unmarkedPainting(content)).toBe(0);
    }
  });
});

describe('a single piece with elements in other languages', () => {
  it('gives the catalog the template’s language and each such element its own', async () => {
    const pdf = await renderSample(MULTILINGUAL);
    const objs = await pdfObjects(pdf);
    const root = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    expect(root['/Lang']).toBe('u:he');
    const languages = (await structElements(pdf)).filter((e) => e.lang !== undefined);
    expect(languages).toEqual(
      expect.arrayContaining([
        { type: 'P', lang: 'ar' },
        { type: 'P', lang: 'en' },
      ]),
    );
    expect(languages).toHaveLength(2);
  });
});

describe('a text with paragraphs before and after its bullets', () => {
  afterAll(() => cleanup());

  it('is a Div of those paragraphs and the list between them, a wrapped item’s lines in its body', async () => {
    const dir = await templateCopy('multilingual-sample', (m) => {
      (m.pages as { elements: object[] }[])[0]!.elements.push({
        type: 'text',
        name: 'steps',
        lang: 'en',
        x: 250,
        y: 206,
        w: 150,
        h: 60,
        size: 7,
        text: 'Three steps:\n• Call us\n• We compare every carrier we work with for you\nThat is all.',
      });
    });
    const pdf = await renderSample(dir);
    const roles = (await structure(pdf))[0]!;
    const div = roles.indexOf('Div');
    expect(roles.slice(div, div + 10)).toEqual([
      'Div',
      'P',
      'L',
      'LI',
      'Lbl',
      'LBody',
      'LI',
      'Lbl',
      'LBody',
      'P',
    ]);
    // pdf.js joins the wrapped item's two lines without a space: compare the letters.
    const marked = (await markedTexts(pdf, 1)).map((m) => `${m.tag}: ${m.text.replace(/\s+/g, '')}`);
    const start = marked.indexOf('P: Threesteps:');
    expect(marked.slice(start, start + 6)).toEqual([
      'P: Threesteps:',
      'Lbl: •',
      'LBody: Callus',
      'Lbl: •',
      'LBody: Wecompareeverycarrierweworkwithforyou',
      'P: Thatisall.',
    ]);
    expect((await structElements(pdf)).filter((e) => e.type === 'Div')).toEqual([
      { type: 'Div', lang: 'en' },
    ]);
  });
});

describe('a print file of several pieces', () => {
  it('stays untagged', async () => {
    const compiled = await compileTemplate(BROCHURE);
    const pieces = samples(compiled)
      .slice(0, 2)
      .map((s) => preparePiece(compiled, s.record, s.images));
    const text = await uncompressed(await renderToBuffer(compiled, pieces));
    expect(text).not.toMatch(/StructTreeRoot|MarkInfo|BDC/);
  });
});
