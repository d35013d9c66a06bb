/**
 * What a multi-record document shares, and what it must not: static art is drawn once per document
 * (Form XObjects S1.. placed on every page), images are embedded once per distinct image, recurring
 * text lines become Form XObjects (L1..) without losing text, and the DPart tree (PDF/VT style) ties
 * every piece's pages to its record hash. Ends with the size per record of the bench mailer.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProspects, mailerRecord } from '../../bench/workload.js';
import type { PreparedImage } from '../../src/assets/images.js';
import type { FittedPiece } from '../../src/model/piece.js';
import { mergeRecord } from '../../src/merge/merge.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { DrawItem } from '../../src/model/kinds.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import {
  countObjects,
  deref,
  isFormXObject,
  isImageXObject,
  isRef,
  pageXObjects,
  pdfInfo,
  pdfObjects,
  pdfText,
  popplerText,
  qpdfCheck,
  type PdfDict,
  type PdfJson,
  type PdfObjects,
} from '../support/pdf.js';
import { REPO_ROOT } from '../support/repo.js';

const execFileAsync = promisify(execFile);

/** One distinct first name per record: none is part of another or of any template's copy. */
const FIRST_NAMES = [
  'Quincy',
  'Rosalind',
  'Thaddeus',
  'Ulrike',
  'Wendell',
  'Xiomara',
  'Yusuf',
  'Zebulon',
  'Ignatius',
  'Jolene',
  'Kasimir',
  'Leopold',
];
const PRODUCT_LINES = ['auto', 'home', 'life', 'business'];

interface SampleRecord {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------- helpers

function dict(value: PdfJson | undefined): PdfDict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected a dictionary, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A dictionary entry resolved through indirect references. */
function get(objs: PdfObjects, value: PdfJson | undefined, key: string): PdfJson | undefined {
  return deref(objs, dict(deref(objs, value))[key]);
}

interface Streams {
  /** Decoded content of each page, in page order. */
  pages: string[];
  /** Decoded data of every stream object, by reference ("12 0 R"). */
  byRef: Map<string, string>;
}

function parseStreams(json: string): Streams {
  const root = JSON.parse(json) as {
    pages: { contents: string[] }[];
    qpdf: [unknown, Record<string, { stream?: { data?: string } }>];
  };
  const byRef = new Map<string, string>();
  for (const [key, entry] of Object.entries(root.qpdf[1])) {
    const data = entry.stream?.data;
    if (key.startsWith('obj:') && data !== undefined) {
      byRef.set(key.slice('obj:'.length), Buffer.from(data, 'base64').toString('latin1'));
    }
  }
  const pages = root.pages.map((page) =>
    page.contents
      .map((ref) => {
        const data = byRef.get(ref);
        if (data === undefined) throw new Error(`no stream data for content ${ref}`);
        return data;
      })
      .join('\n'),
  );
  return { pages, byRef };
}

/** The XObject names a content stream paints, in order (`/S1 Do` → "S1"). */
function painted(content: string): string[] {
  return [...content.matchAll(/\/([^\s/<>[\]()]+)\s+Do\b/g)].map((match) => match[1]!);
}

/** Every image a piece draws, including those inside static layers. */
function imagesOf(items: DrawItem[]): PreparedImage[] {
  return items.flatMap((item) =>
    item.kind === 'image' ? [item.image] : item.kind === 'static' ? imagesOf(item.items) : [],
  );
}

/** Image XObjects a document needs: one per distinct image, plus one SMask per distinct image with alpha. */
function expectedImageObjects(pieces: FittedPiece[]): { distinct: number; withAlpha: number } {
  const distinct = new Map<string, PreparedImage>();
  for (const piece of pieces)
    for (const page of piece.pages) for (const image of imagesOf(page)) distinct.set(image.sha256, image);
  const withAlpha = [...distinct.values()].filter((image) => image.alpha !== undefined).length;
  return { distinct: distinct.size, withAlpha };
}

/** The sum of the (encoded) stream lengths of every image XObject, SMasks included. */
function imageStreamBytes(objs: PdfObjects): number {
  let total = 0;
  for (const object of objs.objects.values()) {
    if (!isImageXObject(object)) continue;
    const length = deref(objs, dict(object.value)['/Length']);
    if (typeof length !== 'number') throw new Error(`image ${object.ref} has no numeric /Length`);
    total += length;
  }
  return total;
}

/** A text string as qpdf's JSON writes it ("u:abc"), without the marker; undefined for anything else. */
function textString(value: PdfJson | undefined): string | undefined {
  return typeof value === 'string' && value.startsWith('u:') ? value.slice(2) : undefined;
}

// ----------------------------------------------------------------------------------- the 12-record docs

interface MultiDoc {
  compiled: CompiledTemplate;
  records: SampleRecord[];
  pieces: FittedPiece[];
  pdf: Buffer;
  objs: PdfObjects;
  contents: string[];
  streams: Streams;
  texts: string[];
}

/** 12 records: the template's samples in turn, each with its own first name (and product line). */
async function multiRecordDocument(folder: string): Promise<MultiDoc> {
  const compiled = await compileTemplate(path.join(REPO_ROOT, 'templates', folder));
  const sampleList = samples(compiled);
  const records = FIRST_NAMES.map((firstName, i) => {
    const record = structuredClone(sampleList[i % sampleList.length]!.record) as SampleRecord;
    record.prospect.firstName = firstName;
    if ('productLine' in compiled.inputs.prospect) record.prospect.productLine = PRODUCT_LINES[i % 4];
    return record;
  });
  const pieces = records.map((record) => preparePiece(compiled, record, compiled.assets));
  const pdf = await renderToBuffer(compiled, pieces);
  const [objs, streams, texts] = await Promise.all([pdfObjects(pdf), decodedStreams(pdf), pdfText(pdf)]);
  return { compiled, records, pieces, pdf, objs, contents: streams.pages, streams, texts };
}

/** Decoded stream data, page contents in page order (qpdf --json with inline, decoded stream data). */
async function decodedStreams(pdf: Buffer): Promise<Streams> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-sharing-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    await writeFile(file, pdf);
    const args = ['--json=2', '--json-key=pages', '--json-key=qpdf', '--json-stream-data=inline'];
    const { stdout } = await execFileAsync('qpdf', [...args, '--decode-level=generalized', file], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    return parseStreams(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------- tests

describe.each(['postcard-6x4', 'insurance-brochure'])('12 records of %s in one document', (folder) => {
  let doc: MultiDoc;
  let pagesPerPiece: number;
  /** Static layer ids of each template page, in drawing order. */
  let staticIds: string[][];

  beforeAll(async () => {
    doc = await multiRecordDocument(folder);
    pagesPerPiece = doc.compiled.pages.length;
    staticIds = doc.compiled.pages.map((page) =>
      page.layers.flatMap((layer) => (layer.kind === 'static' ? [layer.id] : [])),
    );
  });

  it('is a valid PDF with every piece, and no single-record hash in Info', async () => {
    expect((await qpdfCheck(doc.pdf)).ok).toBe(true);
    expect(doc.objs.pageRefs).toHaveLength(FIRST_NAMES.length * pagesPerPiece);
    const { pageCount, custom } = await pdfInfo(doc.pdf);
    expect(pageCount).toBe(FIRST_NAMES.length * pagesPerPiece);
    expect(custom.PlatenTemplate).toBe(folder);
    expect(custom.PlatenRecordSHA256).toBeUndefined();
  });

  it('draws each static layer as one Form XObject, placed on every page that shows it', () => {
    const allIds = staticIds.flat();
    // Every page of these templates has locked art.
    for (const ids of staticIds) expect(ids.length).toBeGreaterThan(0);
    const resources = pageXObjects(doc.objs);
    const first = resources[0]!;
    const formRefs = allIds.map((id) => first[id]);
    // One distinct form object per static layer, and each is a Form XObject.
    expect(formRefs.every((ref) => ref !== undefined)).toBe(true);
    expect(new Set(formRefs).size).toBe(allIds.length);
    for (const ref of formRefs) expect(isFormXObject(doc.objs.objects.get(ref!)!)).toBe(true);
    // Only as many S* forms as static layers, not pages × layers.
    const sNames = Object.keys(first).filter((name) => /^S\d+$/.test(name));
    expect(sNames.sort()).toEqual([...allIds].sort());

    doc.contents.forEach((content, p) => {
      // Every page paints its template page's static layers, in order, through the same objects.
      const expected = staticIds[p % pagesPerPiece]!;
      expect(painted(content).filter((name) => /^S\d+$/.test(name))).toEqual(expected);
      for (const id of expected) expect(resources[p]![id]).toBe(first[id]);
    });
  });

  it('has no Form XObjects besides the static layers and the recurring text lines', () => {
    const names = Object.keys(pageXObjects(doc.objs)[0]!);
    const lNames = names.filter((name) => /^L\d+$/.test(name));
    expect(countObjects(doc.objs, isFormXObject)).toBe(staticIds.flat().length + lNames.length);
  });

  it('embeds each distinct image once (plus one SMask per image with alpha)', () => {
    const { distinct, withAlpha } = expectedImageObjects(doc.pieces);
    const placements = doc.pieces.reduce(
      (sum, piece) => sum + piece.pages.reduce((n, page) => n + imagesOf(page).length, 0),
      0,
    );
    // The pieces place images far more often than there are distinct ones.
    expect(placements).toBeGreaterThanOrEqual(FIRST_NAMES.length);
    expect(distinct).toBeLessThan(placements);
    expect(countObjects(doc.objs, isImageXObject)).toBe(distinct + withAlpha);
    // Each image resource name points at one object, shared by every page.
    const imageNames = Object.entries(pageXObjects(doc.objs)[0]!).filter(([name]) => name.startsWith('Im'));
    expect(imageNames).toHaveLength(distinct);
  });

  it('turns recurring text lines into L* forms, each painted by a page or a static layer', () => {
    const resources = pageXObjects(doc.objs)[0]!;
    const lNames = Object.keys(resources).filter((name) => /^L\d+$/.test(name));
    expect(lNames.length).toBeGreaterThan(0);
    for (const name of lNames) expect(isFormXObject(doc.objs.objects.get(resources[name]!)!)).toBe(true);
    // Painted by the pages, or (a locked line repeated in another static layer) by an S* form.
    const formStreams = Object.values(resources).flatMap((ref) => {
      const object = doc.objs.objects.get(ref);
      return object && isFormXObject(object) ? [doc.streams.byRef.get(ref) ?? ''] : [];
    });
    const paintedL = new Set(
      [...doc.contents, ...formStreams].flatMap((content) =>
        painted(content).filter((n) => /^L\d+$/.test(n)),
      ),
    );
    expect([...paintedL].sort()).toEqual([...lNames].sort());
    // The first piece has nothing to reuse yet: a line becomes a form the second time it is drawn.
    const firstPiece = doc.contents.slice(0, pagesPerPiece).join('\n');
    const lastPiece = doc.contents.slice(-pagesPerPiece).join('\n');
    expect(painted(lastPiece).filter((n) => /^L\d+$/.test(n)).length).toBeGreaterThan(
      painted(firstPiece).filter((n) => /^L\d+$/.test(n)).length,
    );
  });

  it("puts each prospect's name on their own pages and on no other record's", () => {
    expect(doc.texts).toHaveLength(FIRST_NAMES.length * pagesPerPiece);
    FIRST_NAMES.forEach((name, i) => {
      const own = doc.texts.slice(i * pagesPerPiece, (i + 1) * pagesPerPiece).join('\n');
      expect(own).toContain(name);
      for (const other of FIRST_NAMES) if (other !== name) expect(own, `record ${i}`).not.toContain(other);
      const company = doc.records[i]!.prospect.company;
      if (typeof company === 'string') expect(own).toContain(company);
    });
  });

  /** Each record's page texts when it is rendered alone (single-piece document); computed once. */
  let alone: Promise<string[][]> | undefined;
  const aloneTexts = (): Promise<string[][]> =>
    (alone ??= Promise.all(
      doc.pieces.map(async (piece) => pdfText(await renderToBuffer(doc.compiled, [piece]))),
    ));
  const mergedTexts = (i: number): string[] => doc.texts.slice(i * pagesPerPiece, (i + 1) * pagesPerPiece);

  it('keeps every character of every page extractable, as in a document of that record alone', async () => {
    const squash = (pages: string[]) => pages.map((page) => page.replace(/\s+/g, ''));
    for (const [i, pages] of (await aloneTexts()).entries()) {
      expect(pages).toHaveLength(pagesPerPiece);
      expect(squash(mergedTexts(i)), `record ${i}`).toEqual(squash(pages));
    }
  });

  // Word breaks are checked with poppler: pdf.js starts a fresh text run inside every Form XObject and
  // puts no break between a line and the next when either is one ("smooth" + "sailing" extracts as
  // "smoothsailing"), a known limit of its text extraction, not of the file: poppler (and the prepress
  // tools built on it) reads the reused lines with their breaks.
  it('keeps the word breaks between lines, as in a document of that record alone (poppler)', async () => {
    const merged = await popplerText(doc.pdf);
    for (const [i, piece] of doc.pieces.entries()) {
      const alone = await popplerText(await renderToBuffer(doc.compiled, [piece]));
      expect(
        merged.slice(i * pagesPerPiece, (i + 1) * pagesPerPiece),
        `record ${i} (${FIRST_NAMES[i]})`,
      ).toEqual(alone);
    }
  });

  it('records one DPart leaf per piece, starting at its first page, with its record hash', () => {
    const { objs, pieces, records, compiled } = doc;
    const catalog = get(objs, objs.trailer, '/Root');
    const dpartRoot = dict(get(objs, catalog, '/DPartRoot'));
    expect(dpartRoot['/Type']).toBe('/DPartRoot');
    expect(deref(objs, dpartRoot['/RecordLevel'])).toBe(1);
    const rootNodeRef = dpartRoot['/DPartRootNode'];
    expect(isRef(rootNodeRef)).toBe(true);
    const rootNode = dict(deref(objs, rootNodeRef));
    expect(rootNode['/Parent']).toBe(dict(catalog)['/DPartRoot']);
    const groups = deref(objs, rootNode['/DParts']);
    if (!Array.isArray(groups)) throw new Error('DParts is not an array');
    const leaves = groups.flatMap((group) => {
      const resolved = deref(objs, group);
      if (!Array.isArray(resolved)) throw new Error('a DParts entry is not an array');
      return resolved;
    });
    expect(leaves).toHaveLength(records.length);

    const hashes = new Set<string>();
    leaves.forEach((leafRef, i) => {
      expect(isRef(leafRef)).toBe(true);
      const leaf = dict(deref(objs, leafRef));
      const firstPage = objs.pageRefs[i * pagesPerPiece];
      const lastPage = objs.pageRefs[(i + 1) * pagesPerPiece - 1];
      expect(leaf['/Parent']).toBe(rootNodeRef);
      expect(leaf['/Start']).toBe(firstPage);
      if (pagesPerPiece > 1) expect(leaf['/End']).toBe(lastPage);
      // Every page of the piece points back at its leaf.
      for (let p = i * pagesPerPiece; p < (i + 1) * pagesPerPiece; p++) {
        expect(dict(deref(objs, objs.pageRefs[p]))['/DPart']).toBe(leafRef);
      }
      const hash = textString(get(objs, leaf['/DPM'], '/RecordSHA256'));
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hash).toBe(pieces[i]!.recordHash);
      expect(hash).toBe(mergeRecord(compiled, records[i], compiled.assets).recordHash);
      hashes.add(hash!);
    });
    expect(hashes.size).toBe(records.length);
  });
});

describe('bench mailer: size per record', () => {
  let compiled: CompiledTemplate;
  let rows: Record<string, string>[];

  async function measure(count: number) {
    const pieces = rows
      .slice(0, count)
      .map((row) => preparePiece(compiled, mailerRecord(row), compiled.assets));
    expect(pieces).toHaveLength(count);
    const pdf = await renderToBuffer(compiled, pieces);
    const objs = await pdfObjects(pdf);
    const images = imageStreamBytes(objs);
    const perRecord = pdf.length / count / 1024;
    const beyondImages = (pdf.length - images) / count / 1024;
    console.log(
      `bench mailer, ${count} records: ${pdf.length} bytes (${images} in images): ` +
        `${perRecord.toFixed(3)} KiB per record, ${beyondImages.toFixed(3)} KiB per record beyond images`,
    );
    return { pdf, objs, pieces, perRecord, beyondImages };
  }

  beforeAll(async () => {
    compiled = await compileTemplate(path.join(REPO_ROOT, 'bench/mailer'));
    rows = loadProspects();
    expect(rows.length).toBeGreaterThanOrEqual(1000);
  });

  it('stays under 1.1 KiB per record beyond images at 200 records, images embedded once', async () => {
    const { objs, pieces, beyondImages } = await measure(200);
    // Five headshots and a logo with alpha: seven image objects for 200 pages.
    const { distinct, withAlpha } = expectedImageObjects(pieces);
    expect({ distinct, withAlpha }).toEqual({ distinct: 6, withAlpha: 1 });
    expect(countObjects(objs, isImageXObject)).toBe(distinct + withAlpha);
    expect(beyondImages).toBeLessThanOrEqual(1.1);
  });

  it('meets the target of at most 1.0 KiB per record, images included, at 1,000 records', async () => {
    const { pdf, perRecord, beyondImages } = await measure(1000);
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    expect(beyondImages).toBeLessThan(perRecord);
    expect(perRecord).toBeLessThanOrEqual(1.0);
  });
});
