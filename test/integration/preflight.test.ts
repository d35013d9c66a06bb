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
import { cmykPostcardWithRgbSquare, renderSample } from '../support/print.js';
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

  it('warns of RGB kept in a CMYK document', async () => {
    const dir = await cmykPostcardWithRgbSquare();
    const { problems, warnings } = await validateTemplate(dir);
    expect(problems).toEqual([]);
    expect(new Set(brief(warnings))).toEqual(new Set(['warning rgb_in_cmyk screenOnly p1']));
    const pdf = await renderSample(dir);
    expect(brief(preflightPdf(pdf))).toEqual(['error rgb_in_cmyk - p1']);
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
