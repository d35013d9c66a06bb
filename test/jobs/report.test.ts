import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { type CsvRow, openCsv } from '../../src/jobs/csv.js';
import { ErrorReport } from '../../src/jobs/report.js';

const HEADER = ['row', 'line', 'column', 'rule', 'message', 'value'];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-report-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let reportCount = 0;
/** Writes a report to a real file and returns its bytes once end() has resolved. */
async function writeReport(
  fill: (report: ErrorReport) => void,
): Promise<{ bytes: Buffer; report: ErrorReport }> {
  const file = path.join(tmp, `errors-${++reportCount}.csv`);
  const report = new ErrorReport(createWriteStream(file));
  fill(report);
  await report.end();
  return { bytes: await readFile(file), report };
}

/** The report read back as a spreadsheet would: BOM dropped, CR LF records. */
function readBack(bytes: Buffer): string[][] {
  return parse(bytes, { bom: true, record_delimiter: '\r\n' }) as string[][];
}

const problem = (path: string, rule: string, message: string): Problem => ({ path, rule, message });
/** cellOf as the runner gives it: prospect paths to their columns and cells, other paths as they are. */
const cellsOf =
  (values: Record<string, string>, columns: Record<string, string> = {}) =>
  (p: string) => {
    const input = p.startsWith('prospect.') ? p.slice('prospect.'.length) : undefined;
    const column = input === undefined ? undefined : (columns[input] ?? input);
    return column === undefined ? { column: p, value: '' } : { column, value: values[column] ?? '' };
  };

describe('ErrorReport', () => {
  it('writes a UTF-8 BOM and a CR LF header even with no rejected row', async () => {
    const { bytes, report } = await writeReport(() => undefined);
    expect(bytes.toString('utf8')).toBe('\uFEFFrow,line,column,rule,message,value\r\n');
    expect(report.rejectedRows).toBe(0);
  });

  it('writes one line per problem, counts rows, and ends every line with CR LF', async () => {
    const { bytes, report } = await writeReport((r) => {
      r.add(
        { row: 3, line: 4 },
        [
          problem('prospect.email', 'invalid_format', 'not an email address'),
          problem('prospect.lastName', 'required', 'required'),
        ],
        cellsOf({ 'E-mail': 'ann@', Surname: '' }, { email: 'E-mail', lastName: 'Surname' }),
      );
      r.add(
        { row: 9, line: 12 },
        [problem('extra', 'ragged_row', 'the row has 2 cells more than the header')],
        cellsOf({}),
      );
    });
    expect(report.rejectedRows).toBe(2);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = bytes.toString('utf8');
    expect(text.split('\r\n')).toHaveLength(5); // header, 3 problems, and nothing after the last CR LF
    expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    expect(readBack(bytes)).toEqual([
      HEADER,
      ['3', '4', 'E-mail', 'invalid_format', 'not an email address', 'ann@'],
      ['3', '4', 'Surname', 'required', 'required', ''],
      ['9', '12', 'extra', 'ragged_row', 'the row has 2 cells more than the header', ''],
    ]);
  });

  it('keeps the formula-injection fixture from running in a spreadsheet', async () => {
    const input = await openCsv(
      fileURLToPath(new URL('../fixtures/csv/formula-injection.csv', import.meta.url)),
    );
    const rows: CsvRow[] = [];
    for await (const row of input.rows) rows.push(row);
    const { bytes } = await writeReport((r) => {
      for (const row of rows)
        r.add(
          row,
          input.headers.map((h) => problem(`prospect.${h}`, 'pattern', `bad ${h}`)),
          cellsOf(row.values),
        );
    });
    expect(readBack(bytes).map((line) => line[5])).toEqual([
      'value',
      `'=HYPERLINK("http://x","y")`,
      "'+1-555",
      "'@SUM(A1)",
      "'-2+3",
      // A leading tab is written as an escape: not a formula, and no raw control character.
      '\\t=1+1',
      'ok',
    ]);
  });

  it('protects every column, not only the value', async () => {
    const { bytes } = await writeReport((r) =>
      r.add(
        { row: 1, line: 2 },
        [problem('prospect.x', '@rule', '-1 is too small'), problem('fields.y', '+rule', '\rmessage')],
        () => ({ column: '=cmd|/c calc!A1', value: '\tvalue' }),
      ),
    );
    expect(readBack(bytes).slice(1)).toEqual([
      ['1', '2', "'=cmd|/c calc!A1", "'@rule", "'-1 is too small", '\\tvalue'],
      ['1', '2', "'=cmd|/c calc!A1", "'+rule", '\\rmessage', '\\tvalue'],
    ]);
  });

  it('quotes cells with quotes, commas and semicolons, and writes tabs and line breaks as escapes', async () => {
    const { bytes } = await writeReport((r) =>
      r.add({ row: 1, line: 2 }, [problem('prospect.note', 'choice', 'must be one of: a, b')], () => ({
        column: 'Note; extra',
        value: 'say "hi"\nthen\tleave',
      })),
    );
    const text = bytes.toString('utf8');
    expect(text).toContain('1,2,"Note; extra",choice,"must be one of: a, b","say ""hi""\\nthen\\tleave"\r\n');
    expect(readBack(bytes)[1]).toEqual([
      '1',
      '2',
      'Note; extra',
      'choice',
      'must be one of: a, b',
      'say "hi"\\nthen\\tleave',
    ]);
  });

  it('truncates values to 200 characters with an ellipsis, never splitting a character', async () => {
    const exact = 'x'.repeat(200);
    const { bytes } = await writeReport((r) => {
      for (const value of [exact, 'y'.repeat(5000), '😀'.repeat(300), '=' + 'z'.repeat(300)])
        r.add({ row: 1, line: 2 }, [problem('prospect.a', 'too_long', 'too long')], () => ({
          column: 'a',
          value,
        }));
    });
    const values = readBack(bytes)
      .slice(1)
      .map((line) => line[5] ?? '');
    expect(values[0]).toBe(exact);
    expect(values[1]).toBe('y'.repeat(199) + '…');
    expect(values[2]).toBe('😀'.repeat(199) + '…');
    expect(values[3]).toBe("'=" + 'z'.repeat(198) + '…');
  });

  it('lists a rejected row even when given no problem for it', async () => {
    const { bytes, report } = await writeReport((r) => r.add({ row: 5, line: 6 }, [], cellsOf({})));
    expect(report.rejectedRows).toBe(1);
    expect(readBack(bytes)[1]).toEqual(['5', '6', '', '', '', '']);
  });

  it('rejects from end() when the destination fails, without crashing before', async () => {
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    const report = new ErrorReport(failing);
    await new Promise((resolve) => setImmediate(resolve));
    report.add({ row: 1, line: 2 }, [problem('prospect.a', 'r', 'm')], () => ({ column: 'a', value: '' }));
    await expect(report.end()).rejects.toThrow('disk full');
  });
});
