import type { ReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PlatenError } from '../../src/errors.js';
import { type CsvInput, type CsvOptions, type CsvRow, openCsv } from '../../src/jobs/csv.js';

/** Every file stream openCsv opens, to see how much of a file it has read and that it lets go. */
const opened = vi.hoisted(() => [] as ReadStream[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    createReadStream: (...args: Parameters<typeof fs.createReadStream>) => {
      const stream = fs.createReadStream(...args);
      opened.push(stream);
      return stream;
    },
  };
});

const FIXTURES = fileURLToPath(new URL('../fixtures/csv/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-csv-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let fileCount = 0;
async function tempFile(content: string | Buffer): Promise<string> {
  const file = path.join(tmp, `file-${++fileCount}.csv`);
  await writeFile(file, content);
  return file;
}

async function readAll(file: string, options?: CsvOptions): Promise<{ input: CsvInput; rows: CsvRow[] }> {
  const input = await openCsv(file, options);
  const rows: CsvRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return { input, rows };
}

/** The problems of the PlatenError a promise rejects with. */
async function csvProblems(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatenError);
  expect((err as PlatenError).code).toBe('invalid_csv');
  return (err as PlatenError).problems;
}

describe('fixtures: spreadsheet exports as they come', () => {
  it('Excel CSV UTF-8: BOM, CR LF, comma', async () => {
    const { input, rows } = await readAll(fixture('utf8-bom-excel.csv'));
    expect(input.encoding).toBe('utf-8');
    expect(input.delimiter).toBe(',');
    expect(input.headers).toEqual(['First Name', 'Last Name', 'Email', 'City', 'Notes']);
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 6], // row 3 spans lines 4 and 5
    ]);
    expect(rows[0]?.values).toEqual({
      'First Name': 'Zoë',
      'Last Name': 'Müller',
      Email: 'zoe@example.com',
      City: 'Köln',
      Notes: '',
    });
    expect(rows[1]?.values.City).toBe('São Paulo, SP');
    expect(rows[1]?.values.Notes).toBe('Prefers "morning" calls');
    expect(rows[2]?.values.Notes).toBe('Line one\nLine two');
    expect(rows[3]?.values['Last Name']).toBe('Żółć');
    expect(rows.every((r) => r.extra.length === 0)).toBe(true);
  });

  it('Excel in a French locale: Windows-1252, semicolons, CR LF', async () => {
    const { input, rows } = await readAll(fixture('windows-1252-semicolon.csv'));
    expect(input.encoding).toBe('windows-1252');
    expect(input.delimiter).toBe(';');
    expect(input.headers).toEqual(['Prénom', 'Nom', 'Ville', 'Montant']);
    expect(rows.map((r) => r.values)).toEqual([
      { Prénom: 'Zoé', Nom: 'Lefèvre', Ville: 'Besançon', Montant: '1 234,50 €' },
      { Prénom: 'François', Nom: 'Œuvre', Ville: 'Orléans', Montant: '12;5' },
      { Prénom: 'Hélène', Nom: 'Dupré', Ville: 'Nîmes', Montant: '3,00 €' },
    ]);
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4]);
  });

  it('tab-separated', async () => {
    const { input, rows } = await readAll(fixture('tabs.tsv'));
    expect(input.delimiter).toBe('\t');
    expect(input.encoding).toBe('utf-8');
    expect(input.headers).toEqual(['firstName', 'lastName', 'city']);
    expect(rows.map((r) => r.values.city)).toEqual(['Oslo', 'San José, CA', 'Rome']);
    expect(rows[2]?.values.lastName).toBe('Tab\there');
  });

  it('Google Sheets: LF, no BOM, quoted line breaks and doubled quotes, no final line break', async () => {
    const { input, rows } = await readAll(fixture('sheets-export.csv'));
    expect(input.encoding).toBe('utf-8');
    expect(input.delimiter).toBe(',');
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 4],
      [3, 7],
    ]);
    expect(rows[0]?.values.address).toBe('12 Main St\nApt 4');
    expect(rows[1]?.values.address).toBe('PO Box 9\nSuite "B"\nFloor 3');
    expect(rows[1]?.values.quote).toBe('She said "hi"');
    expect(rows[1]?.values.last_name).toBe("O'Brien");
    expect(rows[2]?.values).toEqual({
      id: '3',
      first_name: 'Cy',
      last_name: 'Ng',
      address: '1 Elm St',
      quote: '',
    });
  });

  it('skips blank lines, pads short rows and keeps the extra cells of long ones', async () => {
    const { rows } = await readAll(fixture('blank-lines-ragged.csv'));
    expect(rows).toEqual([
      { row: 1, line: 2, values: { name: 'Ann', email: 'ann@example.com', city: 'Oslo' }, extra: [] },
      { row: 2, line: 4, values: { name: 'Bob', email: 'bob@example.com', city: '' }, extra: [] },
      {
        row: 3,
        line: 7,
        values: { name: 'Cy', email: 'cy@example.com', city: 'Rome' },
        extra: ['extra one', 'extra two'],
      },
      { row: 4, line: 9, values: { name: 'Dee', email: 'dee@example.com', city: 'Nice' }, extra: [] },
    ]);
  });

  it('reads formula-like values as plain text', async () => {
    const { rows } = await readAll(fixture('formula-injection.csv'));
    expect(rows.map((r) => r.values)).toEqual([
      { name: '=HYPERLINK("http://x","y")', phone: '+1-555', note: '@SUM(A1)' },
      { name: '-2+3', phone: '\t=1+1', note: 'ok' },
    ]);
  });
});

describe('line numbers', () => {
  it('count a CR LF inside a quoted value as one line', async () => {
    const file = await tempFile('a,b\r\n"one\r\ntwo\r\nthree",1\r\n\r\nnext,2\r\nlast,3\r\n');
    const { rows } = await readAll(file);
    expect(rows.map((r) => [r.values.a, r.line])).toEqual([
      ['one\r\ntwo\r\nthree', 2],
      ['next', 6],
      ['last', 7],
    ]);
  });

  it('follow mixed line endings, old Mac CRs and blank lines before the header', async () => {
    const file = await tempFile('\n\r\nid,name\r1,a\n2,b\r\n\n3,c');
    const { input, rows } = await readAll(file);
    expect(input.headers).toEqual(['id', 'name']);
    expect(rows.map((r) => [r.row, r.line, r.values.name])).toEqual([
      [1, 4, 'a'],
      [2, 5, 'b'],
      [3, 7, 'c'],
    ]);
  });
});

describe('detection', () => {
  it('reads a file without BOM as UTF-8 when it is valid UTF-8', async () => {
    const { input, rows } = await readAll(await tempFile('name\nRenée\n'));
    expect(input.encoding).toBe('utf-8');
    expect(rows[0]?.values.name).toBe('Renée');
  });

  it('takes invalid UTF-8 anywhere in the first 64 KiB as Windows-1252', async () => {
    const start = Buffer.from('name\n' + 'plain\n'.repeat(5000));
    const { input, rows } = await readAll(
      await tempFile(Buffer.concat([start, Buffer.from([0x52, 0xe9, 0x0a])])),
    );
    expect(start.length).toBeGreaterThan(20_000);
    expect(input.encoding).toBe('windows-1252');
    expect(rows.at(-1)?.values.name).toBe('Ré');
  });

  it('does not mistake a UTF-8 character cut by the 64 KiB sniff for invalid UTF-8', async () => {
    const padding = 'x'.repeat(64 * 1024 - 'name\n'.length - 1);
    const { input, rows } = await readAll(await tempFile(`name\n${padding}é\n`));
    expect(input.encoding).toBe('utf-8');
    expect(rows[0]?.values.name).toBe(`${padding}é`);
  });

  it('takes the delimiter the header uses most, outside quotes', async () => {
    const { input } = await readAll(await tempFile('"a,b,c";d;e\n1;2;3\n'));
    expect(input.delimiter).toBe(';');
    expect(input.headers).toEqual(['a,b,c', 'd', 'e']);
  });

  it('breaks a tie by the next line', async () => {
    const { input, rows } = await readAll(await tempFile('Nom;Adresse, ville\nAnn;12 rue X\n'));
    expect(input.delimiter).toBe(';');
    expect(rows[0]?.values['Adresse, ville']).toBe('12 rue X');
  });

  it('reads a single column as comma-separated', async () => {
    const { input, rows } = await readAll(await tempFile('email\na@example.com\n'));
    expect(input.delimiter).toBe(',');
    expect(rows[0]?.values).toEqual({ email: 'a@example.com' });
  });

  it('uses the encoding and delimiter it is given', async () => {
    const file = await tempFile(Buffer.from('a,b;c\n1,2;3\n', 'latin1'));
    const { input, rows } = await readAll(file, { encoding: 'windows-1252', delimiter: ';' });
    expect(input).toMatchObject({ encoding: 'windows-1252', delimiter: ';', headers: ['a,b', 'c'] });
    expect(rows[0]?.values).toEqual({ 'a,b': '1,2', c: '3' });
  });

  it('trims header names and keeps values as written', async () => {
    const { input, rows } = await readAll(await tempFile('\uFEFF First Name , City\n  Ann , Oslo \n'));
    expect(input.headers).toEqual(['First Name', 'City']);
    expect(rows[0]?.values).toEqual({ 'First Name': '  Ann ', City: ' Oslo ' });
  });

  it('keeps a lone quote inside an unquoted value', async () => {
    const { rows } = await readAll(await tempFile('item,size\nscreen,12" wide\n'));
    expect(rows[0]?.values.size).toBe('12" wide');
  });

  it('gives a header-only file no rows', async () => {
    const { input, rows } = await readAll(await tempFile('a,b\r\n'));
    expect(input.headers).toEqual(['a', 'b']);
    expect(rows).toEqual([]);
  });

  it('keeps a column named like an Object.prototype key', async () => {
    const { rows } = await readAll(await tempFile('__proto__,constructor\n1,2\n'));
    expect(Object.keys(rows[0]?.values ?? {})).toEqual(['__proto__', 'constructor']);
    expect(rows[0]?.values.constructor).toBe('2');
  });
});

describe('refused files', () => {
  it('an empty file, or one of blank lines', async () => {
    for (const content of ['', '\n\r\n  \n']) {
      expect(await csvProblems(openCsv(await tempFile(content)))).toEqual([
        { path: 'csv', rule: 'empty', message: expect.stringContaining('header') },
      ]);
    }
  });

  it('empty and duplicate header names, all of them', async () => {
    const problems = await csvProblems(openCsv(await tempFile('Email,,Name,Email \n1,2,3,4\n')));
    expect(problems.map((p) => [p.path, p.rule])).toEqual([
      ['csv', 'empty_header'],
      ['csv', 'duplicate_header'],
    ]);
    expect(problems[0]?.message).toContain('column 2');
    expect(problems[1]?.message).toContain('"Email"');
    expect(problems[1]?.message).toContain('columns 1, 4');
  });

  it('a missing file or a directory', async () => {
    expect(await csvProblems(openCsv(path.join(tmp, 'missing.csv')))).toEqual([
      { path: 'csv', rule: 'unreadable', message: 'cannot read the file (ENOENT)' },
    ]);
    const dir = path.join(tmp, 'a-directory.csv');
    await mkdir(dir);
    expect((await csvProblems(openCsv(dir)))[0]?.rule).toBe('unreadable');
  });

  it('UTF-16, by name', async () => {
    const file = await tempFile(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\r\n', 'utf16le')]),
    );
    expect((await csvProblems(openCsv(file)))[0]?.rule).toBe('unsupported_encoding');
  });

  it('a quote never closed, from the row iterator, naming the line the record starts on', async () => {
    const input = await openCsv(await tempFile('a,b\r\n"x\r\ny",1\r\n\r\n2,"never closed\r\n3,4\r\n'));
    const seen: number[] = [];
    const problems = await csvProblems(
      (async () => {
        for await (const row of input.rows) seen.push(row.line);
      })(),
    );
    expect(seen).toEqual([2]);
    expect(problems).toEqual([
      {
        path: 'csv',
        rule: 'malformed',
        message: 'the record starting on line 5 has a quoted value that is never closed',
      },
    ]);
  });

  it('a record too long to be one (a quote never closed in a large file)', async () => {
    const input = await openCsv(await tempFile(`a,b\n1,2\n\n3,"${'x,'.repeat(600_000)}\n`));
    const problems = await csvProblems(
      (async () => {
        for await (const _row of input.rows);
      })(),
    );
    expect(problems).toEqual([
      {
        path: 'csv',
        rule: 'malformed',
        message:
          'the record starting on line 4 is longer than 1,000,000 bytes (often a quote that is never closed)',
      },
    ]);
  });
});

describe('streaming', () => {
  const ROWS = 200_000;
  let big: string;
  beforeAll(async () => {
    const lines = ['id,name,address,email'];
    // Every record spans two lines, so line numbers are checked all the way down.
    for (let i = 1; i <= ROWS; i++) lines.push(`${i},Name ${i},"${i} Main St\nFloor 2",n${i}@example.com`);
    big = path.join(tmp, 'big.csv');
    await writeFile(big, lines.join('\r\n') + '\r\n');
  });

  it('yields the first row long before the file is read, and every row after', async () => {
    const size = (await stat(big)).size;
    const input = await openCsv(big);
    const rows = input.rows[Symbol.asyncIterator]();
    const first = await rows.next();
    const stream = opened.at(-1);
    expect(first.value).toMatchObject({
      row: 1,
      line: 2,
      values: { id: '1', address: '1 Main St\nFloor 2' },
    });
    expect(stream?.bytesRead).toBeLessThan(1024 * 1024);
    expect(size).toBeGreaterThan(10 * 1024 * 1024);

    let count = 1;
    let last: CsvRow | undefined;
    for (let next = await rows.next(); !next.done; next = await rows.next()) {
      count++;
      last = next.value;
    }
    expect(count).toBe(ROWS);
    expect(last).toMatchObject({ row: ROWS, line: 2 * ROWS, values: { id: String(ROWS) }, extra: [] });
    expect(stream?.bytesRead).toBe(size);
  });

  it('lets go of the file when the reader stops early', async () => {
    const input = await openCsv(big);
    for await (const row of input.rows) if (row.row === 10) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.at(-1)?.destroyed).toBe(true);
  });

  it('holds no file open until the rows are read, and reads them afresh each time', async () => {
    const file = await tempFile('a\n1\n2\n');
    const before = opened.length;
    const input = await openCsv(file);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.slice(before).every((stream) => stream.destroyed)).toBe(true);
    const values = async () => {
      const out: string[] = [];
      for await (const row of input.rows) out.push(row.values.a ?? '');
      return out;
    };
    expect(await values()).toEqual(['1', '2']);
    expect(await values()).toEqual(['1', '2']);
  });

  it('refuses to read rows under a header that has changed since', async () => {
    const file = await tempFile('a,b\n1,2\n');
    const input = await openCsv(file);
    await writeFile(file, 'a,c\n1,2\n');
    const problems = await csvProblems(
      (async () => {
        for await (const _row of input.rows);
      })(),
    );
    expect(problems.map((p) => p.rule)).toEqual(['changed']);
  });

  it('lets go of the file when the header is refused', async () => {
    await csvProblems(openCsv(await tempFile('a,a\n1,2\n')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.at(-1)?.destroyed).toBe(true);
  });
});
