/**
 * Issue 15, item 2: mixed encodings. A list's text is never decoded into U+FFFD (or into mojibake):
 * a cell that is not text in the list's encoding rejects its row, naming its line and column, and the
 * rest of the list still prints; a header that is not text refuses the list, naming line and column.
 * A U+FFFD typed in valid UTF-8 is text. The rejected-rows report never carries a raw control
 * character. Through the CSV reader, the API (jobs and columns) and `platen batch`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatenError } from '../../src/errors.js';
import { type CsvOptions, type CsvRow, openCsv } from '../../src/jobs/csv.js';
import { cleanup, tempDir } from '../support/files.js';
import { jobEnded, jobForm, jobReport } from '../support/jobs.js';
import { REPO_ROOT, runCli } from '../support/repo.js';
import {
  type Client,
  client,
  createKey,
  problem,
  profileForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const cp1252 = (text: string) => iconv.encode(text, 'windows-1252');
const bytes = (text: string) => Buffer.from(text, 'latin1');

/** The postcard's prospect columns, and one it does not use. */
const HEADER = 'First Name,Last Name,Street Address,City,State,ZIP,Notes\r\n';
/** Rows enough that the list's first 64 KiB, where its encoding is found, are all UTF-8. */
const UTF8_ROWS = 60;

/**
 * The list the audit made: UTF-8 rows, then a row that another program saved as Windows-1252 (row
 * 61, on line 62), then a UTF-8 row with a U+FFFD typed in it.
 */
function mixedList(): Buffer {
  const notes = 'Ünïcödé '.repeat(150);
  return Buffer.concat([
    utf8(HEADER),
    ...Array.from({ length: UTF8_ROWS }, (_, i) =>
      utf8(`Zoë${i + 1},Müller,${i + 1} Harbor Rd,Portland,ME,04101,${notes}\r\n`),
    ),
    cp1252('José,García,1 Rue Émile,Portland,ME,04101,café\r\n'),
    utf8('Ann,Lee,2 Elm St,Portland,ME,04101,typed \uFFFD on purpose\r\n'),
  ]);
}
/** What every face must say of the mixed list's Windows-1252 row. */
const BAD_ROW = { row: 61, line: 62, columns: ['First Name', 'Last Name', 'Street Address', 'Notes'] };

let dir: string;
beforeAll(async () => {
  dir = await tempDir('platen-encodings-');
});
afterAll(cleanup);

let files = 0;
async function listFile(content: Buffer): Promise<string> {
  const file = path.join(dir, `list-${++files}.csv`);
  await writeFile(file, content);
  return file;
}

async function read(content: Buffer, options?: CsvOptions) {
  const input = await openCsv(await listFile(content), options);
  const rows: CsvRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return { input, rows };
}

describe('reading a list', () => {
  it('rejects the rows past the start that are not UTF-8, naming each cell, and decodes nothing into U+FFFD', async () => {
    const { input, rows } = await read(mixedList());
    expect(input.encoding).toBe('utf-8');
    expect(rows).toHaveLength(UTF8_ROWS + 2);
    const rejected = rows.filter((row) => row.problems);
    expect(rejected.map((row) => [row.row, row.line])).toEqual([[BAD_ROW.row, BAD_ROW.line]]);
    expect(rejected[0]!.problems!.map((p) => [p.path, p.rule])).toEqual(
      BAD_ROW.columns.map((column) => [column, 'encoding']),
    );
    expect(rejected[0]!.problems![0]!.message).toContain('not UTF-8');
    // The bytes that are not UTF-8 are shown by their code, never replaced.
    expect(rejected[0]!.values).toMatchObject({
      'First Name': 'Jos\\xE9',
      'Street Address': '1 Rue \\xC9mile',
    });
    const values = rows.flatMap((row) => Object.values(row.values));
    expect(values.filter((value) => value.includes('\uFFFD'))).toEqual(['typed \uFFFD on purpose']);
    expect(rows.at(-1)!.problems).toBeUndefined();
  });

  it('reads a short list in the encoding most of it is in, and rejects the row in the other', async () => {
    const mostly1252 = await read(
      Buffer.concat([cp1252('Prénom;Nom\r\nZoé;Lefèvre\r\nFrançois;Œuvre\r\n'), utf8('Zoë;Müller\r\n')]),
    );
    expect(mostly1252.input.encoding).toBe('windows-1252');
    expect(mostly1252.rows.map((row) => row.values.Prénom)).toEqual(['Zoé', 'François', 'Zoë']);
    expect(mostly1252.rows.map((row) => row.problems?.map((p) => p.path))).toEqual([
      undefined,
      undefined,
      ['Prénom', 'Nom'],
    ]);
    expect(mostly1252.rows[2]!.problems![0]!.message).toContain('UTF-8 text in a list read as Windows-1252');

    const mostlyUtf8 = await read(Buffer.concat([utf8('name\nZoë\nÅsa\n'), cp1252('José\n')]));
    expect(mostlyUtf8.input.encoding).toBe('utf-8');
    expect(mostlyUtf8.rows.map((row) => [row.values.name, row.problems?.length])).toEqual([
      ['Zoë', undefined],
      ['Åsa', undefined],
      ['Jos\\xE9', 1],
    ]);
  });

  it('reads a Windows-1252 list whose first 64 KiB are ASCII by its first accent', async () => {
    const { rows } = await read(
      Buffer.concat([utf8(`name,city\n${'Pat,Portland\n'.repeat(6000)}`), cp1252('Renée,Orléans\n')]),
    );
    expect(rows.at(-1)).toMatchObject({ row: 6001, values: { name: 'Renée', city: 'Orléans' } });
    expect(rows.at(-1)!.problems).toBeUndefined();
  });

  it('rejects the bytes Windows-1252 does not define, detected or declared', async () => {
    const list = Buffer.concat([cp1252('name,city\nRenée,Orléans\n'), bytes('Bad\x81,Nîmes\n')]);
    for (const options of [{}, { encoding: 'windows-1252' } as const]) {
      const { input, rows } = await read(list, options);
      expect(input.encoding).toBe('windows-1252');
      expect(rows[1]).toMatchObject({ row: 2, line: 3, values: { name: 'Bad\\x81', city: 'Nîmes' } });
      expect(rows[1]!.problems?.map((p) => [p.path, p.rule])).toEqual([['name', 'encoding']]);
    }
  });

  it('refuses a list whose header is not text, naming its line and column', async () => {
    const refused = await openCsv(
      await listFile(
        Buffer.concat([utf8('\r\nFirst Name,Last Name,Co'), bytes('\xff'), utf8('t\r\nZoë,Müller,1\r\n')]),
      ),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PlatenError);
    expect((refused as PlatenError).problems).toEqual([
      { path: 'csv', rule: 'encoding', message: expect.stringContaining('line 2), column 3 "Co\\xFFt"') },
    ]);
  });
});

describe('through the API', () => {
  let server: TestServer;
  let rep: Client;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
    rep = client(server.url, (await createKey(server, 'rep', 'Chloé', 'chloe')).key);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a job rejects the row that is not UTF-8, naming its line and columns, and the rest go through', async () => {
    const started = await rep('post', '/api/v1/jobs', {
      body: jobForm(mixedList(), { templateId: 'postcard-6x4', output: 'check' }),
    });
    expect(started.status).toBe(202);
    const job = await jobEnded(rep, (started.json as { id: string }).id);
    expect(job).toMatchObject({ state: 'done', done: UTF8_ROWS + 2, rendered: UTF8_ROWS + 1, rejected: 1 });
    const { text, lines } = await jobReport(rep, job);
    expect(lines.map((l) => [l.row, l.line, l.column, l.rule])).toEqual(
      BAD_ROW.columns.map((column) => [String(BAD_ROW.row), String(BAD_ROW.line), column, 'encoding']),
    );
    expect(lines[0]!.value).toBe('Jos\\xE9');
    expect(text).not.toContain('\uFFFD');
  });

  it('/api/v1/jobs/columns refuses a header that is not text, naming its line and column', async () => {
    const list = Buffer.concat([
      utf8('First Name,Last Name,Co'),
      bytes('\xff'),
      utf8('t\r\nZoë,Müller,1\r\n'),
    ]);
    const reply = await rep('post', '/api/v1/jobs/columns', {
      body: jobForm(list, { templateId: 'postcard-6x4' }),
    });
    expect(reply.status).toBe(422);
    expect(problem(reply).errors).toEqual([
      { path: 'csv', rule: 'encoding', message: expect.stringContaining('line 1), column 3 "Co\\xFFt"') },
    ]);
  });

  it('the report shows control characters as escapes, never raw', async () => {
    const list =
      HEADER +
      'Ann,Lee,1 Elm St,Portland,M\u0000E,04101,\r\n' +
      'Bo,Ng,2 Elm St,Portland,"M\nE",04101,\r\n' +
      'Cy,Roe,3 Elm St,Portland,X\u0085\u202EY\u2028,04101,\r\n';
    const started = await rep('post', '/api/v1/jobs', {
      body: jobForm(list, { templateId: 'postcard-6x4', output: 'check' }),
    });
    const job = await jobEnded(rep, (started.json as { id: string }).id);
    expect(job).toMatchObject({ state: 'done', rejected: 3 });
    const { text, lines } = await jobReport(rep, job);
    // CR LF ends each line of the report; nothing else is a control character.
    expect(text.replaceAll('\r\n', '')).not.toMatch(/[\p{Cc}\u202E\u2028]/u);
    expect(lines.filter((l) => l.column === 'State').map((l) => l.value)).toEqual([
      'M\\u0000E',
      'M\\nE',
      'X\\u0085\\u202EY\\u2028',
    ]);
  });
});

describe('platen batch', () => {
  it('rejects the row that is not UTF-8, naming its line and columns, and the rest would render', async () => {
    const csv = await listFile(mixedList());
    const repFile = path.join(dir, 'rep.json');
    await writeFile(
      repFile,
      JSON.stringify({ name: 'Alex Morgan', phone: '(415) 555-0141', email: 'a@b.example' }),
    );
    const errors = path.join(dir, 'errors.csv');
    const postcard = path.join(REPO_ROOT, 'templates/postcard-6x4');
    const run = await runCli([
      'batch',
      postcard,
      '--csv',
      csv,
      '--rep',
      repFile,
      '--dry-run',
      '--errors',
      errors,
    ]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`${UTF8_ROWS + 2} rows: ${UTF8_ROWS + 1} would render, 1 rejected`);
    const lines = parse(await readFile(errors), { bom: true, columns: true }) as Record<string, string>[];
    expect(lines.map((l) => [l.row, l.line, l.column, l.rule])).toEqual(
      BAD_ROW.columns.map((column) => [String(BAD_ROW.row), String(BAD_ROW.line), column, 'encoding']),
    );
  });
});
