/**
 * `platen preflight <pdf> --standard …` over real files: today's outputs, which do not claim PDF/X,
 * fail PDF/X-4 and PDF/VT-1 on the rules they do not yet keep (and on no others), and Ghostscript's
 * own PDF/X output, an independent writer's, keeps every rule its PDF/X part shares with PDF/X-1a
 * and PDF/X-4.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { cmykPostcardWithRgbSquare, renderSample } from '../support/print.js';
import { REPO_ROOT, requireBuiltCli, runCli, TEMPLATES_DIR } from '../support/repo.js';

const run = promisify(execFile);

let tmp: string;
beforeAll(async () => {
  await requireBuiltCli();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-standards-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The rules `platen preflight --standard` says a file breaks, each once, and its exit code. */
async function brokenRules(pdf: Uint8Array, standard: string, name: string) {
  const file = path.join(tmp, name);
  await writeFile(file, pdf);
  const cli = await runCli(['preflight', '--json', '--standard', standard, file]);
  const report = JSON.parse(cli.stdout) as { ok: boolean; broken: { rule: string }[] };
  return { code: cli.code, ok: report.ok, rules: [...new Set(report.broken.map((v) => v.rule))].sort() };
}

/** What today's outputs do not do yet: the PDF/X-4 version, identification, ids, dates and trapping. */
const NOT_YET_PDFX4 = [
  'pdfx4.trapped',
  'pdfx4.version',
  'pdfx4.xmp-dates',
  'pdfx4.xmp-ids',
  'pdfx4.xmp-version',
];

describe('today’s outputs, which do not claim a standard', () => {
  it('fail PDF/X-4 on its identification and, in RGB, on the output intent', async () => {
    const rgb = await renderSample(path.join(TEMPLATES_DIR, 'letter-window'));
    expect(await brokenRules(rgb, 'PDF/X-4', 'letter.pdf')).toEqual({
      code: 1,
      ok: false,
      rules: ['pdfx.output-intent', ...NOT_YET_PDFX4].sort(),
    });
  });

  it('fail PDF/X-4 in CMYK also on the RGB a template keeps', async () => {
    const cmyk = await renderSample(await cmykPostcardWithRgbSquare());
    expect((await brokenRules(cmyk, 'PDF/X-4', 'postcard-cmyk.pdf')).rules).toEqual(
      ['pdfx4.device-color', ...NOT_YET_PDFX4].sort(),
    );
    const cli = await runCli(['preflight', '--standard', 'PDF/X-4', path.join(tmp, 'postcard-cmyk.pdf')]);
    expect(cli.stdout).toContain(
      'ISO 15930-7:2010; ISO 32000-1 8.6.4, 8.6.5.6 — device colour matches the output intent',
    );
    expect(cli.stdout).toMatch(/: DeviceRGB in the page \(page 1\) \[pdfx4\.device-color\]\n/);
  });

  it('fail PDF/VT-1, as a merged drop, on its identification beyond PDF/X-4', async () => {
    const compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'postcard-6x4'));
    const drop = await renderToBuffer(
      compiled,
      samples(compiled).map((s) => preparePiece(compiled, s.record, s.images)),
    );
    expect((await brokenRules(drop, 'PDF/VT-1', 'drop.pdf')).rules).toEqual(
      ['pdfvt1.xmp-version', 'pdfx.output-intent', ...NOT_YET_PDFX4].sort(),
    );
  });

  it('refuses a standard it does not know, naming the ones it does', async () => {
    const cli = await runCli(['preflight', '--standard', 'PDF/X-3', path.join(tmp, 'letter.pdf')]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('give PDF/X-4, PDF/X-1a, PDF/VT-1');
  });
});

describe('Ghostscript’s PDF/X output', () => {
  it('keeps the rules PDF/X-3:2002 shares with PDF/X-1a and PDF/X-4, and breaks only what differs', async () => {
    // Ghostscript 10.0 writes PDF/X-3:2002 (-dPDFX), from its PDFX_def.ps given a profile and a
    // condition: a CMYK PDF 1.3 file with an output intent, boxes, embedded fonts and Info.
    const { stdout } = await run('gs', ['--version']);
    const def = await readFile(`/usr/share/ghostscript/${stdout.trim()}/lib/PDFX_def.ps`, 'latin1');
    const prefix = path.join(tmp, 'pdfx_def.ps');
    const profile = path.join(REPO_ROOT, 'assets/color/PlatenFOGRA39L.icc');
    await writeFile(
      prefix,
      def.replaceAll('(ISO Coated sb.icc)', `(${profile})`).replaceAll('(CGATS TR001)', '(FOGRA39)'),
      'latin1',
    );
    const input = path.join(tmp, 'letter-for-gs.pdf');
    await writeFile(input, await renderSample(path.join(TEMPLATES_DIR, 'letter-window')));
    const output = path.join(tmp, 'gs-pdfx3.pdf');
    await run('gs', [
      '-q',
      '-dPDFX',
      '-dBATCH',
      '-dNOPAUSE',
      '-dNOSAFER',
      '-sDEVICE=pdfwrite',
      '-sColorConversionStrategy=CMYK',
      `-sOutputFile=${output}`,
      prefix,
      input,
    ]);
    const pdf = await readFile(output);
    expect(pdf.toString('latin1', 0, 8)).toBe('%PDF-1.3');
    // PDF/X-1a:2003 asks for the same file but for the name it gives itself.
    expect(await brokenRules(pdf, 'PDF/X-1a', 'gs-x1a.pdf')).toMatchObject({
      rules: ['pdfx1a.identification'],
    });
    // PDF/X-4 identifies itself in XMP, which Ghostscript does not write at PDF 1.3.
    expect((await brokenRules(pdf, 'PDF/X-4', 'gs-x4.pdf')).rules).toEqual(['pdfx4.xmp']);
  });
});
