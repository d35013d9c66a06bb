/**
 * Tagged PDF for single on-screen pieces: a structure tree (headings, paragraphs, figures with the
 * template's alt text), decorative art as artifacts, everything painted inside marked content, and
 * the language and title set; a print file of several pieces stays untagged.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate, withMarks } from '../../src/template/compile.js';
import { deref, pdfObjects, qpdfCheck, withPdfDocument, type PdfDict } from '../support/pdf.js';
import { withTempDir } from '../support/files.js';
import { renderSample, uncompressed } from '../support/print.js';
import { TEMPLATES_DIR } from '../support/repo.js';

const run = promisify(execFile);
const BROCHURE = path.join(TEMPLATES_DIR, 'insurance-brochure');

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
