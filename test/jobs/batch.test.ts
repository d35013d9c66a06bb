/**
 * `platen batch`, end to end through the built CLI: a 2,000-row drop with known bad rows produces
 * exactly the right pages and report; ZIP output; exit codes; preflight; nothing half-written.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageBoxes, pdfInfo, pdfObjects, pdfText, qpdfCheck } from '../support/pdf.js';
import { REPO_ROOT, runCli } from '../support/repo.js';

const MAILER = path.join(REPO_ROOT, 'bench/mailer');
const HEADER = ['Customer ID', 'First Name', 'last_name', 'Company', 'industry', 'headshot'];
const REP = {
  name: 'Alex Morgan',
  title: 'Senior Account Executive',
  phone: '(415) 555-0141',
  email: 'a.morgan@brightlane.example',
};

/** Row n (from 1) of the synthetic drop as it should be. */
const goodCells = (n: number) => [
  `P${String(n).padStart(5, '0')}`,
  `First${n}`,
  `Last${n}`,
  `Company ${n} & Sons`,
  'logistics',
  String((n % 5) + 1),
];

/** Row n (from 1) of the synthetic drop, and what is wrong with it, if anything. */
function row(n: number): { cells: string[]; bad?: { column: string; rule: string } } {
  const cells = goodCells(n);
  if (n % 250 === 0)
    return {
      cells: cells.map((c, i) => (i === 1 ? '' : c)),
      bad: { column: 'First Name', rule: 'invalid_type' },
    };
  if (n % 333 === 0)
    return { cells: cells.map((c, i) => (i === 5 ? '9' : c)), bad: { column: 'headshot', rule: 'choice' } };
  if (n === 1999) return { cells: [...cells, 'extra'], bad: { column: 'csv', rule: 'ragged_row' } };
  return { cells };
}

const csvLine = (cells: string[]) =>
  cells.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');

describe('platen batch', () => {
  let dir: string;
  let csvPath: string;
  let repPath: string;
  const rows = Array.from({ length: 2000 }, (_, i) => row(i + 1));
  const bad = rows.flatMap((r, i) => (r.bad ? [{ row: i + 1, ...r.bad }] : []));
  const good = rows.length - bad.length;

  /** `platen batch` on the mailer template with the test rep. */
  const batch = (csv: string, ...args: string[]) =>
    runCli(['batch', MAILER, '--csv', csv, '--rep', repPath, ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-batch-'));
    csvPath = path.join(dir, 'drop.csv');
    await writeFile(csvPath, `${[HEADER, ...rows.map((r) => r.cells)].map(csvLine).join('\r\n')}\r\n`);
    repPath = path.join(dir, 'rep.json');
    await writeFile(repPath, JSON.stringify(REP));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('knows its own bad rows (the fixture is what the tests think it is)', () => {
    expect(bad.length).toBe(8 + 6 + 1);
    expect(good).toBe(1985);
  });

  it('merges 2,000 rows into one print file: every good row once, in order; every bad row reported', async () => {
    const out = path.join(dir, 'drop.pdf');
    const errors = path.join(dir, 'drop-errors.csv');
    const result = await batch(csvPath, '--out', out, '--map', 'Customer ID=id');
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(`2000 rows: ${good} rendered, ${bad.length} rejected`);

    const info = await pdfInfo(out);
    expect(info.pageCount).toBe(good);
    expect((await qpdfCheck(out)).ok).toBe(true);
    const texts = await pdfText(out);
    const goodRows = rows.flatMap((r, i) => (r.bad ? [] : [i + 1]));
    // Spot-check the order: first, middle and last pages name their own rows.
    for (const index of [0, 1, 700, good - 1]) expect(texts[index]).toContain(`First${goodRows[index]},`);

    // One bookmark and one DPart leaf per piece; page labels name the CSV row.
    const objs = await pdfObjects(out);
    const values = [...objs.objects.values()].map((o) => o.value as Record<string, unknown>);
    expect(
      values.filter((v) => typeof v === 'object' && v !== null && '/Title' in v && '/Dest' in v),
    ).toHaveLength(good);
    expect(values.filter((v) => typeof v === 'object' && v !== null && '/DPM' in v)).toHaveLength(good);
    const labelLeaves = values.filter((v) => typeof v === 'object' && v !== null && '/Nums' in v);
    const labels = labelLeaves.flatMap((v) => v['/Nums'] as unknown[]).filter((x) => typeof x === 'object');
    expect(labels).toHaveLength(good);

    const report = parse((await readFile(errors, 'utf8')).replace(/^\uFEFF/, ''), {
      columns: true,
    }) as Record<string, string>[];
    expect(report.map((r) => Number(r.row))).toEqual(bad.map((b) => b.row));
    expect(report.map((r) => r.column)).toEqual(bad.map((b) => b.column));
    expect(report.map((r) => r.rule)).toEqual(bad.map((b) => b.rule));
    expect(report.find((r) => r.rule === 'choice')?.value).toBe('9');
    // Nothing temporary is left beside the outputs.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('renders just the rejected rows, as corrected, with --rerun-errors', async () => {
    const corrected = path.join(dir, 'corrected.csv');
    await writeFile(corrected, [HEADER, ...rows.map((_, i) => goodCells(i + 1))].map(csvLine).join('\r\n'));
    const out = path.join(dir, 'rerun.pdf');
    const errors = path.join(dir, 'drop-errors.csv'); // the first test's report
    const result = await batch(corrected, '--out', out, '--map', 'Customer ID=id', '--rerun-errors', errors);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${bad.length} rows: ${bad.length} rendered, 0 rejected`);
    const texts = await pdfText(out);
    expect(texts).toHaveLength(bad.length);
    bad.forEach((b, i) => expect(texts[i]).toContain(`First${b.row},`));
  });

  it('writes one PDF per row into a ZIP, named by the template, file-system safe and unique', async () => {
    const small = path.join(dir, 'small.csv');
    const dupes = [1, 2, 3].map((n) => ({
      ...row(n),
      cells: row(n).cells.map((c, i) => (i === 0 ? 'SAME/ID' : i === 2 ? 'Dup' : c)),
    }));
    await writeFile(small, [HEADER, ...dupes.map((r) => r.cells), row(4).cells].map(csvLine).join('\n'));
    const out = path.join(dir, 'small.zip');
    const result = await batch(small, '--out', out, '--map', 'Customer ID=id');
    expect(result.code, result.stderr).toBe(0);
    const names = await zipNames(out);
    expect(names).toEqual(['SAME_ID-Dup.pdf', 'SAME_ID-Dup-2.pdf', 'SAME_ID-Dup-3.pdf', 'P00004-Last4.pdf']);
    // Info-ZIP's test: every file's CRC (computed by the workers) against its bytes.
    expect((await promisify(execFile)('unzip', ['-tq', out])).stdout).toContain('No errors detected');
  });

  it('stops before the first row, naming them, when required columns are missing (exit 1, nothing written)', async () => {
    const out = path.join(dir, 'unmapped.pdf');
    const result = await batch(csvPath, '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('prospect.id');
    expect(await readdir(dir)).not.toContain('unmapped.pdf');
  });

  it('previews a drop with --dry-run: the report, no PDF', async () => {
    const errors = path.join(dir, 'preflight.csv');
    const result = await batch(csvPath, '--dry-run', '--errors', errors, '--map', 'Customer ID=id');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${good} would render, ${bad.length} rejected`);
    expect((await readFile(errors, 'utf8')).split('\r\n').filter(Boolean)).toHaveLength(bad.length + 1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.pdf') && f.startsWith('preflight'))).toEqual([]);
  });

  it('exits 1 when every row is rejected, and 2 on usage errors', async () => {
    const allBad = path.join(dir, 'all-bad.csv');
    await writeFile(allBad, [HEADER, row(250).cells, row(500).cells].map(csvLine).join('\n'));
    const out = path.join(dir, 'none.pdf');
    const none = await batch(allBad, '--out', out, '--map', 'Customer ID=id');
    expect(none.code).toBe(1);
    expect(await readdir(dir)).not.toContain('none.pdf');
    const usage = await batch(csvPath, '--out', path.join(dir, 'x.docx'));
    expect(usage.code).toBe(2);
    // A rep without a detail the template requires would sink every row: the drop stops first.
    const noEmail = path.join(dir, 'no-email.json');
    await writeFile(noEmail, JSON.stringify({ ...REP, email: undefined }));
    const stopped = await runCli(['batch', MAILER, '--csv', csvPath, '--rep', noEmail, '--out', out]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('rep.email');
    expect(await readdir(dir)).not.toContain('none.pdf');
  });
});

describe('platen batch on press sheets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-batch-sheets-'));
    // Nine postcards, row 5 rejected (a state is two letters).
    const header = 'First Name,Last Name,Address 1,City,State,ZIP,imbSerial';
    const cards = Array.from(
      { length: 9 },
      (_, i) =>
        `Card${i + 1},Köhler,418 Birchwood Lane,Bangor,${i === 4 ? 'Maine' : 'ME'},04401,${100000001 + i}`,
    );
    await writeFile(path.join(dir, 'cards.csv'), [header, ...cards].join('\n'));
    await writeFile(
      path.join(dir, 'rep.json'),
      JSON.stringify({
        name: 'Mateo Álvarez',
        phone: '(207) 555-0142',
        email: 'mateo.alvarez@harbormutual.example',
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const cards = (...args: string[]) =>
    runCli([
      'batch',
      path.join(REPO_ROOT, 'templates/postcard-6x4'),
      '--csv',
      path.join(dir, 'cards.csv'),
      '--rep',
      path.join(dir, 'rep.json'),
      '--concurrency',
      '2',
      ...args,
    ]);

  it("imposes a drop 4-up on 18 × 12 in sheets, in row order across the workers' parts", async () => {
    const out = path.join(dir, 'sheets.pdf');
    expect((await cards('--out', out, '--impose', '18x12in')).code).toBe(3);
    expect((await qpdfCheck(out)).ok).toBe(true);
    const boxes = await pageBoxes(out);
    // Eight good cards, two sides each: two fronts and two backs.
    expect(boxes.map((b) => b.media)).toEqual(Array(4).fill([0, 0, 1296, 864]));
    const [front1, , front2] = await pdfText(out);
    expect(front1).toMatch(/Card1,[\s\S]*Card2,[\s\S]*Card3,[\s\S]*Card4,/);
    expect(front2).toMatch(/Card6,[\s\S]*Card7,[\s\S]*Card8,[\s\S]*Card9,/);
  });

  it('adds crop and bleed marks to every piece with --marks, the media grown to hold them', async () => {
    const out = path.join(dir, 'marked.pdf');
    expect((await cards('--out', out, '--marks')).code).toBe(3);
    const boxes = await pageBoxes(out);
    expect(boxes).toHaveLength(16);
    // 6 × 4 in trim, 0.125 in bleed, 30 pt for the marks on every side.
    expect(new Set(boxes.map((b) => JSON.stringify([b.media, b.trim])))).toEqual(
      new Set([
        JSON.stringify([
          [0, 0, 510, 366],
          [39, 39, 471, 327],
        ]),
      ]),
    );
  });

  it('refuses to impose a ZIP or on a sheet too small, before reading a row (exit 2)', async () => {
    expect((await cards('--out', path.join(dir, 'x.zip'), '--impose', '18x12in')).code).toBe(2);
    const small = await cards('--out', path.join(dir, 'small.pdf'), '--impose', '5x4in');
    expect(small.code).toBe(2);
    expect(small.stderr).toContain('cannot hold one');
  });
});

/** Entry names of a ZIP, in order. */
async function zipNames(file: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (error, z) => (error ? reject(error) : resolve(z))),
  );
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      zip.readEntry();
    });
    zip.on('end', () => resolve(names));
    zip.on('error', reject);
    zip.readEntry();
  });
}
