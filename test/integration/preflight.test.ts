/**
 * Preflight, both ways: `platen validate` checks each sample piece with element names; `platen
 * preflight <pdf>` checks a finished file on its own. A low-resolution photo, text under 6 pt, art in
 * the bleed that should not be there, RGB in a CMYK document and a font that is not embedded.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/preflight/findings.js';
import { preflightPdf } from '../../src/preflight/pdf.js';
import { validateTemplate } from '../../src/validate.js';
import { templateCopy } from '../support/packages.js';
import { cmykPostcardWithRgbSquare, inkedRegions, renderSample } from '../support/print.js';
import { deref, pdfObjects, type PdfDict, qpdfCheck } from '../support/pdf.js';
import { runCli, TEMPLATES_DIR } from '../support/repo.js';

const run = promisify(execFile);

const brief = (findings: Finding[]) =>
  findings.map((f) => `${f.severity} ${f.rule} ${f.element ?? '-'} p${f.page}`);

let tmp: string;
/** The postcard with its cover photo at 800 px (128 ppi), a bar poking into the bleed and 5 pt text. */
let flawed: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-preflight-'));
  flawed = await templateCopy('postcard-6x4', (m) => {
    const pages = m.pages as { elements: Record<string, unknown>[] }[];
    pages[0]!.elements[0]!.src = 'images/small.jpg';
    pages[1]!.elements.push(
      { type: 'rect', name: 'edgeBar', x: -5, y: 100, w: 20, h: 10, fill: '#1F3A5F' },
      { type: 'text', name: 'finePrint', x: 30, y: 250, w: 100, h: 10, text: 'fine print', size: 5 },
    );
  });
  await sharp(path.join(flawed, 'images/coast-1875x1275.jpg'))
    .resize(800)
    .toFile(path.join(flawed, 'images/small.jpg'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('platen validate', () => {
  it('refuses a photo under 150 ppi and warns of bleed and small text, naming sample and element', async () => {
    const { problems, warnings } = await validateTemplate(flawed);
    expect(problems).toContainEqual({
      path: 'samples[0].elements.coverPhoto',
      rule: 'low_resolution',
      message: 'the image (800×544 px) is 128 ppi at its placed size (under 150)',
    });
    expect(problems.every((p) => p.rule === 'low_resolution')).toBe(true);
    const first = warnings.filter((w) => w.piece === 'Accented names, apartment line (Chloé Köhler)');
    expect(brief(first)).toEqual(['warning in_bleed edgeBar p2', 'warning small_text finePrint p2']);
    const cli = await runCli(['validate', flawed]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('samples[0].elements.coverPhoto: the image (800×544 px) is 128 ppi');
    expect(cli.stdout).toContain(
      'warning: Accented names, apartment line (Chloé Köhler), page 2 finePrint: text set at 5 pt',
    );
  });

  it('passes the bundled templates without errors or warnings', async () => {
    for (const name of ['postcard-6x4', 'letter-window', 'insurance-brochure']) {
      const { problems, warnings } = await validateTemplate(path.join(TEMPLATES_DIR, name));
      expect(problems, name).toEqual([]);
      expect(warnings, name).toEqual([]);
    }
  });

  it('refuses an element in an Intelligent Mail barcode’s clear zone, and the postcard keeps its clear', async () => {
    // The postcard's divider where it used to be: 6 pt left of the bars, inside their 9 pt clear zone.
    const crowded = await templateCopy('postcard-6x4', (m) => {
      const back = (m.pages as { elements: Record<string, unknown>[] }[])[1]!;
      back.elements.find((el) => el.name === 'divider')!.x = 178;
    });
    const { problems } = await validateTemplate(crowded);
    expect(problems).toContainEqual({
      path: 'samples[0].elements.divider',
      rule: 'clear_zone',
      message:
        'prints in the clear zone of the Intelligent Mail barcode mailBarcode (0.125 in beside its bars, 0.028 in above and below): move it out',
    });
    expect(new Set(problems.map((p) => p.rule))).toEqual(new Set(['clear_zone']));

    // Ghostscript's rendering of the bundled postcard's back: nothing in the 9 pt beside the bars
    // (bars from 184 to 395.5 pt on the trim, 132 to 142.44 pt down; 9 pt of bleed around the trim).
    const pdf = await renderSample(path.join(TEMPLATES_DIR, 'postcard-6x4'));
    const [left, right, bars] = [184, 404.5, 193].map((x) => ({
      x,
      y: 139,
      w: x === 193 ? 211 : 9,
      h: 14.5,
    }));
    expect(await inkedRegions(pdf, 2, [left!, right!, bars!])).toEqual([false, false, true]);
    const old = await renderSample(crowded);
    expect(await inkedRegions(old, 2, [left!])).toEqual([true]);
  });

  it('warns of RGB kept in a CMYK document', async () => {
    const dir = await cmykPostcardWithRgbSquare();
    const { problems, warnings } = await validateTemplate(dir);
    expect(problems).toEqual([]);
    expect(new Set(brief(warnings))).toEqual(new Set(['warning rgb_in_cmyk screenOnly p1']));
    const pdf = await renderSample(dir);
    expect(brief(preflightPdf(pdf))).toEqual(['error rgb_in_cmyk - p1']);
  });

  it('refuses RGB kept in a CMYK PDF/A template: PDF/A allows its output intent’s colours alone', async () => {
    const dir = await cmykPostcardWithRgbSquare();
    const file = path.join(dir, 'template.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { output: object };
    manifest.output = { ...manifest.output, standard: 'PDF/A-2b' };
    await writeFile(file, JSON.stringify(manifest));
    const { problems, warnings } = await validateTemplate(dir);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems)
      expect(`${problem.rule} ${problem.path}`).toMatch(/^rgb_in_pdfa samples\[\d+\]\.elements\.screenOnly$/);
    expect(brief(warnings).filter((w) => w.includes('rgb'))).toEqual([]);
  });
});

describe('platen preflight <pdf>', () => {
  it('finds the low-resolution photo and the small text by page and position', async () => {
    const file = path.join(tmp, 'flawed.pdf');
    await writeFile(file, await renderSample(flawed));
    const findings = preflightPdf(await readFile(file));
    expect(brief(findings)).toEqual(['error low_resolution - p1', 'warning small_text - p2']);
    expect(findings[0]!.message).toBe('the image at -9, -9 pt is 128 ppi at its placed size (under 150)');
    expect(findings[0]!.piece).toBe('piece 1');
    const cli = await runCli(['preflight', file]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('error: piece 1, page 1: the image at -9, -9 pt is 128 ppi');
    expect(cli.stdout).toContain(`${file}: 1 errors, 1 warnings`);
  });

  it('passes the bundled templates’ renders', async () => {
    for (const name of ['postcard-6x4', 'letter-window', 'insurance-brochure']) {
      const file = path.join(tmp, `${name}.pdf`);
      await writeFile(file, await renderSample(path.join(TEMPLATES_DIR, name)));
      const cli = await runCli(['preflight', '--json', file]);
      expect(cli.code, name).toBe(0);
      expect(JSON.parse(cli.stdout)).toEqual({ ok: true, findings: [] });
    }
  });

  it('finds the RGB gradient of a window letter in CMYK', async () => {
    const dir = await templateCopy('letter-window', (m) => {
      m.output = { ...(m.output as object), colorSpace: 'cmyk' };
    });
    const file = path.join(tmp, 'letter-cmyk.pdf');
    await writeFile(file, await renderSample(dir));
    // qpdf sees what the file holds: a CMYK output intent and a shading in DeviceRGB.
    const objs = await pdfObjects(file);
    const catalog = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    expect(catalog['/OutputIntents']).toBeDefined();
    const shadings = [...objs.objects.values()].filter((o) => (o.value as PdfDict | null)?.['/ShadingType']);
    expect(shadings.map((o) => deref(objs, (o.value as PdfDict)['/ColorSpace']))).toContain('/DeviceRGB');

    const findings = preflightPdf(await readFile(file));
    expect(findings.filter((f) => f.rule === 'rgb_in_cmyk').map((f) => f.message)).toEqual(['RGB gradient']);
    const cli = await runCli(['preflight', file]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('error: piece 1, page 1: RGB gradient [rgb_in_cmyk]');
  });

  it('finds RGB in shadings, patterns, images inside forms and colour spaces of a CMYK file', async () => {
    const chunks: Buffer[] = [];
    const doc = new PDFDocument({ compress: false, autoFirstPage: false });
    doc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => doc.on('end', resolve));
    // What preflight takes for a CMYK document: one with an output intent.
    (doc as unknown as { _root: { data: Record<string, unknown> } })._root.data.OutputIntents = [];
    type Page = { resources: { data: Record<string, unknown> }; xobjects: Record<string, unknown> };
    const page = () => (doc.addPage({ size: [200, 200] }), doc.page as unknown as Page);
    const stream = (dict: Record<string, unknown>, data: string | Buffer) => {
      const ref = doc.ref(dict);
      ref.end(data);
      return ref;
    };
    const rgbShading = {
      ShadingType: 2,
      ColorSpace: 'DeviceRGB',
      Coords: [0, 0, 100, 0],
      Function: {
        FunctionType: 2,
        Domain: [0, 1],
        C0: [1, 0, 0],
        C1: [0, 0, 1],
        N: 1,
      },
    };

    // 1: a shading painted with sh.
    page().resources.data.Shading = { Sh9: rgbShading };
    doc.addContent('/Sh9 sh');
    // 2: an RGB image inside a form that has resources of its own.
    const image = stream(
      {
        Type: 'XObject',
        Subtype: 'Image',
        Width: 1,
        Height: 1,
        ColorSpace: 'DeviceRGB',
        BitsPerComponent: 8,
      },
      Buffer.from([255, 0, 0]),
    );
    page().xobjects.Fm9 = stream(
      { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 100, 100], Resources: { XObject: { Im9: image } } },
      'q 100 0 0 100 0 0 cm /Im9 Do Q',
    );
    doc.addContent('/Fm9 Do');
    // 3: a tiling pattern whose cell paints in RGB.
    page().resources.data.Pattern = {
      Pt9: stream(
        {
          Type: 'Pattern',
          PatternType: 1,
          PaintType: 1,
          TilingType: 1,
          BBox: [0, 0, 10, 10],
          XStep: 10,
          YStep: 10,
          Resources: {},
        },
        '1 0 0 rg 0 0 5 5 re f',
      ),
    };
    doc.addContent('/Pattern cs /Pt9 scn 0 0 100 100 re f');
    // 4: a three-component ICC colour space.
    page().resources.data.ColorSpace = { Cs9: ['ICCBased', stream({ N: 3 }, 'not a real profile')] };
    doc.addContent('/Cs9 cs 1 0 0 scn 0 0 100 100 re f');
    // 5: only CMYK, in a shading too.
    page().resources.data.Shading = {
      Sh8: {
        ...rgbShading,
        ColorSpace: 'DeviceCMYK',
        Function: { ...rgbShading.Function, C0: [0, 0, 0, 1], C1: [1, 0, 0, 0] },
      },
    };
    doc.addContent('0 0 0 1 k 0 0 10 10 re f /Sh8 sh');
    doc.end();
    await done;
    const pdf = Buffer.concat(chunks);
    expect((await qpdfCheck(pdf)).ok).toBe(true);
    const rgb = preflightPdf(pdf).filter((f) => f.rule === 'rgb_in_cmyk');
    expect(rgb.map((f) => `${f.piece}: ${f.message}`)).toEqual([
      'piece 1: RGB gradient',
      'piece 2: RGB image at 0, 0 pt',
      'piece 3: RGB colour in a CMYK document',
      'piece 4: RGB colour in a CMYK document',
    ]);
  });

  it('finds a font that is not embedded', async () => {
    const chunks: Buffer[] = [];
    const doc = new PDFDocument({ compress: false });
    doc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => doc.on('end', resolve));
    doc.font('Helvetica').fontSize(12).text('Standard 14 font');
    doc.end();
    await done;
    const findings = preflightPdf(Buffer.concat(chunks));
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        rule: 'font_not_embedded',
        message: 'Helvetica is a standard font, not embedded',
      }),
    );
  });

  it('refuses a file it cannot read rather than half-check it', async () => {
    const file = path.join(tmp, 'objstm.pdf');
    await writeFile(
      path.join(tmp, 'plain.pdf'),
      await renderSample(path.join(TEMPLATES_DIR, 'letter-window')),
    );
    await run('qpdf', ['--object-streams=generate', path.join(tmp, 'plain.pdf'), file]);
    const cli = await runCli(['preflight', file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/not supported|indirect stream length/);
  });
});
