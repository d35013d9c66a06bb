/**
 * Mail pieces as printed: the bundled postcard's recipient block and Intelligent Mail barcode read
 * back from the PDF (bar count, sizes, pitch and pattern), the window letter's block, and address
 * zones enforced when a template compiles.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imbBars } from '../../src/elements/imb/bars.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { pdfText } from '../support/pdf.js';
import { templateCopy } from '../support/packages.js';
import { renderSample, uncompressed } from '../support/print.js';
import { runCli, TEMPLATES_DIR } from '../support/repo.js';
import { withTempDir } from '../support/files.js';

describe('the postcard address side', () => {
  it('prints the recipient block as Publication 28 lines', async () => {
    const [, back] = await pdfText(await renderSample(path.join(TEMPLATES_DIR, 'postcard-6x4')));
    expect(back).toContain('Chloé Köhler 418 Birchwood Lane Apt 3B Bangor ME 04401');
  });

  it('draws an Intelligent Mail barcode of 65 bars at USPS-B-3200 sizes, encoding the piece', async () => {
    const text = await uncompressed(await renderSample(path.join(TEMPLATES_DIR, 'postcard-6x4')));
    // Bars are the only rectangles 1.44 pt (0.02in) wide.
    const bars = [...text.matchAll(/^([\d.]+) ([\d.]+) 1\.44 ([\d.]+) re$/gm)].map((m) =>
      m.slice(1).map(Number),
    );
    expect(bars).toHaveLength(65);
    const top = Math.min(...bars.map(([, y]) => y!));
    const pattern = bars
      .map(([, y, h]) => {
        if (Math.abs(h! - 10.44) < 0.01) return 'F';
        if (Math.abs(h! - 3.456) < 0.01) return 'T';
        expect(h).toBeCloseTo(6.948, 2);
        return y! - top < 0.01 ? 'A' : 'D';
      })
      .join('');
    // Sample 0: barcode id 00, service type 300, mailer id 123456, serial 100000001, ZIP 04401.
    expect(pattern).toBe((imbBars('00 300 123456 100000001', '04401') as { bars: string }).bars);
    const xs = bars.map(([x]) => x!);
    for (let i = 1; i < xs.length; i++) expect(xs[i]! - xs[i - 1]!).toBeCloseTo(72 / 22, 2);
  });

  it('leaves the barcode out for a list without serials', async () => {
    const compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'postcard-6x4'));
    const sample = samples(compiled)[0]!;
    const record = structuredClone(sample.record) as { prospect: Record<string, unknown> };
    delete record.prospect.imbSerial;
    const text = await uncompressed(
      await renderToBuffer(compiled, [preparePiece(compiled, record, sample.images)]),
    );
    expect(text).not.toMatch(/ 1\.44 [\d.]+ re$/m);
  });
});

describe('the window letter', () => {
  it('batch-merges a list that gives no letter date: every row is dated the day of the run', async () => {
    const compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'letter-window'));
    const records = samples(compiled).map(
      (s) => s.record as Record<'rep' | 'prospect', Record<string, string>>,
    );
    const keys = Object.keys(records[0]!.prospect);
    await withTempDir('platen-letters-', async (dir) => {
      const csv = path.join(dir, 'list.csv');
      const lines = [keys, ...records.map((r) => keys.map((k) => r.prospect[k] ?? ''))];
      await writeFile(csv, lines.map((cells) => cells.map((c) => `"${c}"`).join(',')).join('\n') + '\n');
      const rep = path.join(dir, 'rep.json');
      await writeFile(rep, JSON.stringify(records[0]!.rep));
      const out = path.join(dir, 'letters.pdf');
      const long = () =>
        new Date().toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric' });
      const before = long();
      const letters = path.join(TEMPLATES_DIR, 'letter-window');
      const result = await runCli(['batch', letters, '--csv', csv, '--rep', rep, '--out', out]);
      const after = long();
      // 0: every row printed, none rejected.
      expect(result.code, result.stderr).toBe(0);
      const pages = await pdfText(out);
      expect(pages).toHaveLength(records.length);
      // One date on every row: the day the job ran (read back by pdf.js).
      const dated = [before, after].find((day) => pages.every((page) => page.includes(day)));
      expect(dated, pages.join('\n')).toBeDefined();
    });
  });

  it('prints the block inside the #10 window zone', async () => {
    const [page] = await pdfText(await renderSample(path.join(TEMPLATES_DIR, 'letter-window')));
    expect(page).toMatch(/Chloé Köhler \S.* Eugene OR 97405/);
  });

  it('does not compile with the block moved out of the window', async () => {
    const dir = await templateCopy('letter-window', (m) => {
      const elements = (m.pages as { elements: Record<string, unknown>[] }[])[0]!.elements;
      Object.assign(
        elements.find((e) => e.name === 'recipient')!,
        { y: 240 },
      );
    });
    await expect(compileTemplate(dir)).rejects.toMatchObject({
      problems: [
        expect.objectContaining({
          rule: 'outside_zone',
          path: expect.stringMatching(/^pages\[0\]\.elements\[\d+\]$/),
        }),
      ],
    });
  });
});
