/**
 * Output written to a print standard (manifest `output.standard`): PDF/X-4 for a single piece and a
 * drop's part, PDF/VT-1 for a merged drop of a PDF/X-4 template, PDF/X-1a. Each point is read back
 * with tools independent of the writer: qpdf (structure, header, Info, boxes), poppler's pdfinfo
 * (the XMP packet) and pdffonts, ghostscript's tiffsep (what flattening printed).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatenError } from '../../src/errors.js';
import { checkStandard } from '../../src/preflight/standards/index.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { PdfJoiner } from '../../src/render/join.js';
import { compileTemplate } from '../../src/template/compile.js';
import { validateTemplate } from '../../src/validate.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { cleanup, tempDir, withTempDir } from '../support/files.js';
import { halfTransparentPng } from '../support/images.js';
import { templateCopy } from '../support/packages.js';
import {
  deref,
  isImageXObject,
  pdfFonts,
  pdfObjects,
  qpdfCheck,
  type PdfDict,
  type PdfObjects,
} from '../support/pdf.js';
import { inksIn, RGB_SQUARE, uncompressed } from '../support/print.js';
import { requireBuiltCli, runCli } from '../support/repo.js';

const run = promisify(execFile);

afterAll(cleanup);

/** The postcard in CMYK written to `standard`, with any further change. */
function postcardTo(standard: string, change: (m: Record<string, unknown>) => void = () => {}) {
  return templateCopy('postcard-6x4', (m) => {
    m.output = { ...(m.output as object), colorSpace: 'cmyk', standard };
    change(m);
  });
}

/** The pieces of the template's samples, in order (`order` indexes them). */
function pieces(compiled: CompiledTemplate, order?: number[]) {
  const all = samples(compiled).map((s) => preparePiece(compiled, s.record, s.images));
  return order ? order.map((i) => all[i]!) : all;
}

/** The XMP packet as poppler reads it. */
function xmpOf(pdf: Buffer): Promise<string> {
  return withTempDir('platen-xmp-', async (dir) => {
    const file = path.join(dir, 'in.pdf');
    await writeFile(file, pdf);
    return (await run('pdfinfo', ['-meta', file])).stdout;
  });
}

/** An XMP property's value (a simple one, or dc:title's default). */
function xmp(packet: string, property: string): string | undefined {
  const simple = new RegExp(`<${property}>([^<]*)</${property}>`).exec(packet)?.[1];
  return simple ?? new RegExp(`<${property}>\\s*<rdf:Alt>\\s*<rdf:li[^>]*>([^<]*)<`).exec(packet)?.[1];
}

const dictOf = (objs: PdfObjects, value: unknown): PdfDict => deref(objs, value as string) as PdfDict;
const catalogOf = (objs: PdfObjects): PdfDict => dictOf(objs, (objs.trailer as PdfDict)['/Root']);

/** The Info dictionary's entries, each resolved (pdfkit writes each value as its own object). */
function infoOf(objs: PdfObjects): Record<string, unknown> {
  const info = dictOf(objs, (objs.trailer as PdfDict)['/Info']);
  return Object.fromEntries(Object.entries(info).map(([key, value]) => [key, deref(objs, value)]));
}

/** A `D:YYYYMMDDHHmmSS…` date as the XMP writes it (UTC, to the second). */
function xmpDateOf(pdfDate: unknown): string {
  const m = /^u:D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z/.exec(String(pdfDate));
  if (!m) throw new Error(`not a UTC PDF date: ${String(pdfDate)}`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

async function joined(parts: Buffer[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const joiner = new PdfJoiner(out);
  for (const part of parts) await joiner.append(part);
  await joiner.end();
  return Buffer.concat(chunks);
}

const UUID = /^uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('a PDF/X-4 piece', () => {
  let compiled: CompiledTemplate;
  let pdf: Buffer;
  let objs: PdfObjects;
  let packet: string;

  beforeAll(async () => {
    compiled = await compileTemplate(await postcardTo('PDF/X-4'));
    pdf = await renderToBuffer(compiled, pieces(compiled, [0]));
    objs = await pdfObjects(pdf);
    packet = await xmpOf(pdf);
  });

  it('keeps every machine-checkable rule of PDF/X-4, as the standards checker reads the file', () => {
    expect(checkStandard(pdf, 'PDF/X-4')).toEqual([]);
  });

  it('is a valid PDF of version 1.6 at most', async () => {
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    expect(pdf.subarray(0, 9).toString('latin1')).toBe('%PDF-1.6\n');
  });

  it('names PDF/X-4 in its XMP packet and its Info dictionary, with Trapped False in both', () => {
    expect(xmp(packet, 'pdfxid:GTS_PDFXVersion')).toBe('PDF/X-4');
    expect(packet).toContain('xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/"');
    expect(xmp(packet, 'pdf:Trapped')).toBe('False');
    const info = infoOf(objs);
    expect(info['/GTS_PDFXVersion']).toBe('u:PDF/X-4');
    // A name in the Info dictionary itself, where PDF/X checkers look for it.
    expect(dictOf(objs, (objs.trailer as PdfDict)['/Info'])['/Trapped']).toBe('/False');
  });

  it('dates, titles and names its producer alike in XMP and Info', () => {
    const info = infoOf(objs);
    const created = xmpDateOf(info['/CreationDate']);
    expect(xmp(packet, 'xmp:CreateDate')).toBe(created);
    expect(xmp(packet, 'xmp:ModifyDate')).toBe(xmpDateOf(info['/ModDate']));
    expect(xmp(packet, 'xmp:MetadataDate')).toBe(xmp(packet, 'xmp:ModifyDate'));
    expect(xmp(packet, 'dc:title')).toBe(compiled.name.replace(/&/g, '&amp;'));
    expect(info['/Title']).toBe(`u:${compiled.name}`);
    expect(xmp(packet, 'pdf:Producer')).toBe(String(info['/Producer']).slice(2));
  });

  it('carries a document id, an instance id, a version and the default rendition class', async () => {
    expect(xmp(packet, 'xmpMM:DocumentID')).toMatch(UUID);
    expect(xmp(packet, 'xmpMM:InstanceID')).toMatch(UUID);
    expect(xmp(packet, 'xmpMM:VersionID')).toBe('1');
    expect(xmp(packet, 'xmpMM:RenditionClass')).toBe('default');
    // The same record gives the same document; another record another.
    const again = await xmpOf(await renderToBuffer(compiled, pieces(compiled, [0])));
    expect(xmp(again, 'xmpMM:DocumentID')).toBe(xmp(packet, 'xmpMM:DocumentID'));
    const other = await xmpOf(await renderToBuffer(compiled, pieces(compiled, [1])));
    expect(xmp(other, 'xmpMM:DocumentID')).not.toBe(xmp(packet, 'xmpMM:DocumentID'));
  });

  it('has one GTS_PDFX output intent with its profile and condition, and a file ID', () => {
    const intents = deref(objs, catalogOf(objs)['/OutputIntents']) as string[];
    const pdfx = intents.map((ref) => dictOf(objs, ref)).filter((intent) => intent['/S'] === '/GTS_PDFX');
    expect(pdfx).toHaveLength(1);
    expect(pdfx[0]!['/OutputConditionIdentifier']).toBe('u:FOGRA39');
    const profile = objs.objects.get(pdfx[0]!['/DestOutputProfile'] as string)!;
    expect(profile.isStream).toBe(true);
    expect((profile.value as PdfDict)['/N']).toBe(4);
    const id = (objs.trailer as PdfDict)['/ID'] as string[];
    expect(id).toHaveLength(2);
  });

  it('gives every page a TrimBox and a BleedBox inside its MediaBox', () => {
    for (const ref of objs.pageRefs) {
      const page = dictOf(objs, ref);
      const media = [0, 0, 450, 306];
      for (const key of ['/TrimBox', '/BleedBox']) {
        const [x0, y0, x1, y1] = page[key] as number[];
        expect(x0! >= media[0]! && y0! >= media[1]! && x1! <= media[2]! && y1! <= media[3]!).toBe(true);
      }
    }
  });

  it('embeds every font and holds no device RGB', async () => {
    const fonts = await pdfFonts(pdf);
    expect(fonts.length).toBeGreaterThan(0);
    for (const font of fonts) expect(font.embedded).toBe(true);
    const text = await uncompressed(pdf);
    expect(text).not.toMatch(/DeviceRGB/);
    expect(text).not.toMatch(/\s(rg|RG)\n/);
  });
});

describe('a CMYK piece that names no standard', () => {
  it('declares none: PDF 1.7, no PDF/X identification', async () => {
    const compiled = await compileTemplate(
      await templateCopy('postcard-6x4', (m) => {
        m.output = { ...(m.output as object), colorSpace: 'cmyk' };
      }),
    );
    const pdf = await renderToBuffer(compiled, pieces(compiled, [0]));
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.7');
    expect(await xmpOf(pdf)).not.toContain('GTS_PDFXVersion');
    expect(infoOf(await pdfObjects(pdf))['/GTS_PDFXVersion']).toBeUndefined();
  });
});

describe('a merged drop of a PDF/X-4 template', () => {
  let pdf: Buffer;
  let part: Buffer;
  let objs: PdfObjects;
  let packet: string;

  beforeAll(async () => {
    const compiled = await compileTemplate(await postcardTo('PDF/X-4'));
    part = await renderToBuffer(compiled, pieces(compiled));
    pdf = await joined([part, await renderToBuffer(compiled, pieces(compiled).reverse())]);
    objs = await pdfObjects(pdf);
    packet = await xmpOf(pdf);
  });

  it('keeps every machine-checkable rule of PDF/VT-1 (and so of PDF/X-4), as the standards checker reads it', () => {
    expect(checkStandard(pdf, 'PDF/VT-1')).toEqual([]);
    expect(checkStandard(part, 'PDF/X-4')).toEqual([]);
  });

  it('is a valid PDF 1.6 file', async () => {
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.6');
  });

  it('is PDF/VT-1 and PDF/X-4 in one XMP packet of its own', async () => {
    expect(xmp(packet, 'pdfvtid:GTS_PDFVTVersion')).toBe('PDF/VT-1');
    expect(packet).toContain('xmlns:pdfvtid="http://www.npes.org/pdfvt/ns/id/"');
    expect(xmp(packet, 'pdfvtid:GTS_PDFVTModDate')).toBe(xmp(packet, 'xmp:ModifyDate'));
    expect(xmp(packet, 'pdfxid:GTS_PDFXVersion')).toBe('PDF/X-4');
    // One packet in the file: the parts' are not copied; the drop is a document of its own.
    expect(pdf.toString('latin1').match(/<\?xpacket begin/g)).toHaveLength(1);
    const partPacket = await xmpOf(part);
    expect(xmp(partPacket, 'pdfvtid:GTS_PDFVTVersion')).toBeUndefined();
    expect(xmp(packet, 'xmpMM:DocumentID')).toMatch(UUID);
    expect(xmp(packet, 'xmpMM:DocumentID')).not.toBe(xmp(partPacket, 'xmpMM:DocumentID'));
  });

  it('names the levels of its DParts, and each record’s DPM holds its hash as a text string', () => {
    const root = dictOf(objs, catalogOf(objs)['/DPartRoot']);
    expect(root['/NodeNameList']).toEqual(['/Document', '/Part', '/Record']);
    expect(root['/RecordLevel']).toBe(2);
    const node = dictOf(objs, root['/DPartRootNode']);
    const parts = (node['/DParts'] as string[][]).flat().map((ref) => dictOf(objs, ref));
    const leaves = parts.flatMap((p) => (p['/DParts'] as string[][]).flat().map((ref) => dictOf(objs, ref)));
    expect(leaves.length).toBeGreaterThan(1);
    // DPM values are text strings, numbers, dates, booleans, arrays or dictionaries, never names
    // (ISO 32000-2, 14.12.4.2): qpdf writes a text string as `u:…`.
    for (const leaf of leaves)
      expect(dictOf(objs, leaf['/DPM'])['/RecordSHA256']).toMatch(/^u:[0-9a-f]{64}$/);
  });
});

describe('a batch of a PDF/X-4 template from the command line', () => {
  let dir: string;
  let work: string;

  beforeAll(async () => {
    await requireBuiltCli();
    dir = await postcardTo('PDF/X-4');
    const records = (await compileTemplate(dir)).manifest.samples.map(
      (s) => s.record as { rep: unknown; prospect: Record<string, string> },
    );
    const keys = ['firstName', 'lastName', 'address1', 'address2', 'city', 'state', 'zip'];
    const cell = (v = '') => `"${v.replace(/"/g, '""')}"`;
    const rows = Array.from({ length: 4 }, () =>
      records.map((r) => keys.map((k) => cell(r.prospect[k])).join(',')),
    );
    work = await tempDir('platen-drop-');
    await writeFile(path.join(work, 'drop.csv'), `${[keys.join(','), ...rows.flat()].join('\n')}\n`);
    await writeFile(path.join(work, 'rep.json'), JSON.stringify(records[0]!.rep));
  });

  const batch = async (out: string): Promise<string> => {
    const file = path.join(work, out);
    const input = ['--csv', path.join(work, 'drop.csv'), '--rep', path.join(work, 'rep.json')];
    const result = await runCli(['batch', dir, ...input, '--out', file]);
    expect(result.code, result.stderr).toBe(0);
    return file;
  };

  it('merges a PDF/VT-1 drop, and zips PDF/X-4 pieces', async () => {
    const drop = await readFile(await batch('drop.pdf'));
    expect((await qpdfCheck(drop)).ok).toBe(true);
    const packet = await xmpOf(drop);
    expect(xmp(packet, 'pdfvtid:GTS_PDFVTVersion')).toBe('PDF/VT-1');
    expect(xmp(packet, 'pdfxid:GTS_PDFXVersion')).toBe('PDF/X-4');
    const zip = await batch('drop.zip');
    const members = await withTempDir('platen-unzip-', async (to) => {
      await run('unzip', ['-q', zip, '-d', to]);
      return Promise.all((await readdir(to)).map((name) => readFile(path.join(to, name))));
    });
    expect(members.length).toBeGreaterThan(1);
    for (const member of members) {
      expect(member.subarray(0, 8).toString('latin1')).toBe('%PDF-1.6');
      const own = await xmpOf(member);
      expect(xmp(own, 'pdfxid:GTS_PDFXVersion')).toBe('PDF/X-4');
      expect(xmp(own, 'pdfvtid:GTS_PDFVTVersion')).toBeUndefined();
    }
  });
});

describe('a PDF/X-1a piece', () => {
  let pdf: Buffer;
  let objs: PdfObjects;

  beforeAll(async () => {
    const dir = await postcardTo('PDF/X-1a', (m) => {
      (m.pages as { elements: Record<string, unknown>[] }[])[0]!.elements.push({
        type: 'image',
        name: 'halfClear',
        x: 40,
        y: 40,
        w: 80,
        h: 40,
        src: 'images/half.png',
        fit: 'contain',
      });
    });
    await writeFile(path.join(dir, 'images/half.png'), await halfTransparentPng(200, 100));
    const compiled = await compileTemplate(dir);
    pdf = await renderToBuffer(compiled, pieces(compiled, [0]));
    objs = await pdfObjects(pdf);
  });

  it('keeps every machine-checkable rule of PDF/X-1a, as the standards checker reads the file', () => {
    expect(checkStandard(pdf, 'PDF/X-1a')).toEqual([]);
  });

  it('is a valid PDF 1.3 file identified as PDF/X-1a:2001 in Info, trapping said', async () => {
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    expect(pdf.subarray(0, 9).toString('latin1')).toBe('%PDF-1.3\n');
    const info = infoOf(objs);
    expect(info['/GTS_PDFXVersion']).toBe('u:PDF/X-1:2001');
    expect(info['/GTS_PDFXConformance']).toBe('u:PDF/X-1a:2001');
    expect(dictOf(objs, (objs.trailer as PdfDict)['/Info'])['/Trapped']).toBe('/False');
    expect(info['/ModDate']).toBe(info['/CreationDate']);
    const intents = deref(objs, catalogOf(objs)['/OutputIntents']) as string[];
    expect(intents.map((ref) => dictOf(objs, ref)['/S'])).toEqual(['/GTS_PDFX']);
  });

  it('has no transparency: images are opaque CMYK, no soft mask anywhere', async () => {
    const images = [...objs.objects.values()].filter(isImageXObject);
    for (const image of images) {
      expect((image.value as PdfDict)['/SMask']).toBeUndefined();
      expect((image.value as PdfDict)['/ColorSpace']).toBe('/DeviceCMYK');
    }
    const text = await uncompressed(pdf);
    expect(text).not.toMatch(/\/SMask|\/ca [0.]|\/CA [0.]|ICCBased/);
  });

  it('prints a transparent area as paper: flattened onto white, not black', async () => {
    // The image is drawn contained in its box (80 × 40 pt at trim 40, 40; the media adds 9 pt of bleed).
    const [clear, opaque] = await inksIn(pdf, 1, [
      { x: 9 + 44, y: 9 + 44, w: 30, h: 30 },
      { x: 9 + 86, y: 9 + 44, w: 30, h: 30 },
    ]);
    expect(Math.max(...clear!.values())).toBeLessThan(0.1);
    expect(opaque!.get('Cyan')).toBeGreaterThan(0.5);
  });
});

describe('a template asking for a standard it cannot meet', () => {
  const problems = async (dir: string) => {
    const error = await compileTemplate(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatenError);
    return (error as PlatenError).problems;
  };

  it('is refused for PDF/X in RGB, in words that say what to do', async () => {
    const dir = await templateCopy('postcard-6x4', (m) => {
      m.output = { ...(m.output as object), standard: 'PDF/X-4' };
    });
    const [problem, ...others] = await problems(dir);
    expect(others).toEqual([]);
    expect(problem!.path).toBe('output.standard');
    expect(problem!.message).toBe(
      "PDF/X-4 prints in CMYK: set the output's colour space to CMYK, or choose no standard",
    );
  });

  it('is refused for an element that keeps RGB', async () => {
    const dir = await postcardTo('PDF/X-1a', (m) => {
      (m.pages as { elements: Record<string, unknown>[] }[])[0]!.elements.push({ ...RGB_SQUARE });
    });
    const found = await problems(dir);
    expect(found.map((p) => p.message)).toEqual([
      '"screenOnly" keeps its RGB colours, which PDF/X-1a does not allow: switch off "Keep RGB in a CMYK document"',
    ]);
  });

  it('is refused for art with a gradient, which would stay RGB', async () => {
    const dir = await postcardTo('PDF/X-4');
    await writeFile(
      path.join(dir, 'art/logo-reverse.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g">' +
        '<stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#036"/></linearGradient></defs>' +
        '<rect width="10" height="10" fill="url(#g)"/></svg>',
    );
    const { problems } = await validateTemplate(dir);
    const art = problems.filter((p) => p.rule === 'rgb_in_pdfx');
    expect(art.length).toBeGreaterThan(0);
    expect(art[0]!.message).toBe(
      'has gradients or transparency, which are drawn in RGB, and PDF/X-4 allows no RGB: use art in flat colours',
    );
  });
});
