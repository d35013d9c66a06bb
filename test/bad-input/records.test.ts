/**
 * Bad records: each case feeds one broken record to `checkRecord`, `preparePiece` and
 * `platen render --record`, and checks the exact problem path, rule and message; on the command line,
 * exit code 1, one `path: message` line per problem on stderr, and no PDF or temp file left behind.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecordImages } from '../../src/assets/record-images.js';
import { formatProblem, PlatenError } from '../../src/errors.js';
import { validateRecord } from '../../src/merge/merge.js';
import { checkRecord, preparePiece } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import {
  BROCHURE_DIR,
  CHOICES,
  expectProblemLines,
  expectProblems,
  type Expected,
  lines,
  listDir,
  makePackage,
  pathsAndRules,
  pngBytes,
  requireBuiltCli,
  runCli,
  TempDirs,
  validRecord,
} from './fixtures.js';

interface RecordCase {
  name: string;
  /** The record, or its raw JSON text (for keys a JS object literal cannot hold). */
  record: unknown;
  raw?: boolean;
  /** PlatenError code preparePiece throws: validation problems, or problems found by fitting. */
  code?: 'invalid_record' | 'does_not_fit';
  expected: Expected[];
}

const temp = new TempDirs();
afterAll(() => temp.cleanup());

let templateDir: string;
let compiled: CompiledTemplate;

beforeAll(async () => {
  await requireBuiltCli();
  templateDir = await makePackage(temp);
  compiled = await compileTemplate(templateDir);
});

const NO_IMAGES = new Map();
const MB = 1024 * 1024;
const LOCKED = 'not an input of this template (locked content cannot be changed)';
const SINGLE_LINE_CONTROL = 'contains a line break or control character';
const MULTILINE_CONTROL = 'contains a control character';

/** The valid record with some values replaced (scope by scope). */
function withValues(changes: {
  rep?: Record<string, unknown>;
  prospect?: Record<string, unknown>;
  fields?: Record<string, unknown>;
}): ReturnType<typeof validRecord> {
  const record = validRecord();
  Object.assign(record.rep, changes.rep);
  Object.assign(record.prospect, changes.prospect);
  Object.assign(record.fields, changes.fields);
  return record;
}

/** The valid record as JSON text with `"KEY": value` pairs spliced into a scope (or the top level). */
function rawWith(scope: 'rep' | 'prospect' | 'fields' | null, pairs: string): string {
  const record = validRecord();
  if (scope === null) return JSON.stringify(record).replace(/^\{/, `{${pairs},`);
  const json = JSON.stringify(record[scope]).replace(/^\{/, `{${pairs},`);
  return JSON.stringify({ ...record, [scope]: 'SCOPE' }).replace('"SCOPE"', json);
}

/** What preparePiece throws for `record` (it must throw a PlatenError). */
function preparedError(template: CompiledTemplate, record: unknown, images = NO_IMAGES): PlatenError {
  try {
    preparePiece(template, record, images);
  } catch (error) {
    if (error instanceof PlatenError) return error;
    throw error;
  }
  throw new Error('preparePiece accepted the record');
}

/** A fresh folder holding `record.json` (written as given when a string) and an empty `out/`. */
async function recordFile(record: unknown): Promise<{ file: string; outDir: string }> {
  const work = await temp.make('platen-record-');
  const file = path.join(work, 'record.json');
  const outDir = path.join(work, 'out');
  await mkdir(outDir);
  await writeFile(file, typeof record === 'string' ? record : JSON.stringify(record));
  return { file, outDir };
}

/** `platen render <template> --record <file> --out <outDir>/piece.pdf`. */
async function render(template: string, record: unknown) {
  const { file, outDir } = await recordFile(record);
  const result = await runCli([
    'render',
    template,
    '--record',
    file,
    '--out',
    path.join(outDir, 'piece.pdf'),
  ]);
  return { ...result, file, outDir };
}

const cases: RecordCase[] = [
  // 14 ------------------------------------------------------------------------------ wrong types
  {
    name: '14 number where text is expected',
    record: withValues({ prospect: { firstName: 42 } }),
    expected: [{ path: 'prospect.firstName', rule: 'invalid_type', message: 'expected text' }],
  },
  {
    name: '14 object where text is expected',
    record: withValues({ prospect: { firstName: { first: 'Chloé' } } }),
    expected: [{ path: 'prospect.firstName', rule: 'invalid_type', message: 'expected text' }],
  },
  {
    name: '14 boolean for a text field',
    record: withValues({ fields: { headline: true } }),
    expected: [{ path: 'fields.headline', rule: 'invalid_type', message: 'expected text' }],
  },
  {
    name: '14 array for a text field',
    record: withValues({ fields: { headline: ['Coverage', 'that fits'] } }),
    expected: [{ path: 'fields.headline', rule: 'invalid_type', message: 'expected text' }],
  },
  {
    name: '14 string for a boolean field',
    record: withValues({ fields: { showBundle: 'yes' } }),
    expected: [{ path: 'fields.showBundle', rule: 'invalid_type', message: 'expected true or false' }],
  },
  {
    name: '14 number for a choice field',
    record: withValues({ fields: { plan: 1 } }),
    expected: [{ path: 'fields.plan', rule: 'invalid_type', message: 'expected one of the choices' }],
  },
  {
    name: '14 several wrong types at once, all reported',
    record: withValues({ rep: { name: 7, email: false }, fields: { headline: {}, showBundle: 1 } }),
    expected: [
      { path: 'rep.name', rule: 'invalid_type', message: 'expected text' },
      { path: 'rep.email', rule: 'invalid_type', message: 'expected text' },
      { path: 'fields.headline', rule: 'invalid_type', message: 'expected text' },
      { path: 'fields.showBundle', rule: 'invalid_type', message: 'expected true or false' },
    ],
  },
  {
    name: '14 a scope that is not an object',
    record: { ...validRecord(), fields: 'Coverage that fits' },
    expected: [{ path: 'fields', rule: 'invalid_type', message: 'expected an object' }],
  },
  {
    name: '14 a record that is an array',
    record: [validRecord()],
    expected: [{ path: '', rule: 'invalid_type', message: 'expected object' }],
  },
  {
    name: '14 required values missing (and null counts as missing)',
    record: withValues({ rep: { name: null }, prospect: { firstName: '' } }),
    expected: [
      { path: 'rep.name', rule: 'invalid_type', message: 'required' },
      { path: 'prospect.firstName', rule: 'invalid_type', message: 'required' },
    ],
  },
  // 15 ----------------------------------------------------------------------------- unknown keys
  {
    name: '15 a field named after a locked element',
    record: withValues({ fields: { disclaimer: 'No terms apply.' } }),
    expected: [{ path: 'fields.disclaimer', rule: 'unknown_key', message: LOCKED }],
  },
  {
    name: '15 an undeclared rep value',
    record: withValues({ rep: { photo: 'me.jpg' } }),
    expected: [{ path: 'rep.photo', rule: 'unknown_key', message: LOCKED }],
  },
  {
    name: '15 an unknown top-level key',
    record: { ...validRecord(), style: { color: 'red' } },
    expected: [{ path: 'style', rule: 'unknown_key', message: LOCKED }],
  },
  // 16 ------------------------------------------------------------------- prototype keys (raw JSON)
  {
    name: '16 top-level __proto__',
    record: rawWith(null, '"__proto__": { "polluted": "yes" }'),
    raw: true,
    expected: [{ path: '__proto__', rule: 'unknown_key', message: LOCKED }],
  },
  {
    name: '16 __proto__ in fields',
    record: rawWith('fields', '"__proto__": { "headline": "Pwned", "polluted": "yes" }'),
    raw: true,
    expected: [{ path: 'fields.__proto__', rule: 'unknown_key', message: LOCKED }],
  },
  {
    name: '16 constructor in prospect',
    record: rawWith('prospect', '"constructor": { "prototype": { "polluted": "yes" } }'),
    raw: true,
    expected: [{ path: 'prospect.constructor', rule: 'unknown_key', message: LOCKED }],
  },
  {
    name: '16 __proto__ and constructor together in rep',
    record: rawWith('rep', '"__proto__": { "name": "x" }, "constructor": "Object"'),
    raw: true,
    expected: [
      { path: 'rep.__proto__', rule: 'unknown_key', message: LOCKED },
      { path: 'rep.constructor', rule: 'unknown_key', message: LOCKED },
    ],
  },
  // 17 ------------------------------------------------------------------------------ 1 MB strings
  {
    name: '17 1 MB text',
    record: withValues({ fields: { headline: 'a'.repeat(MB) } }),
    expected: [{ path: 'fields.headline', rule: 'too_big', message: 'longer than 120 characters' }],
  },
  {
    name: '17 1 MB multiline text with line breaks',
    record: withValues({ fields: { note: 'line\n'.repeat(MB / 5) } }),
    expected: [{ path: 'fields.note', rule: 'too_big', message: 'longer than 400 characters' }],
  },
  {
    name: '17 1 MB email, phone and url',
    record: withValues({
      rep: {
        email: `${'a'.repeat(MB)}@harbor.example`,
        phone: '5'.repeat(MB),
        website: `https://${'a'.repeat(MB)}`,
      },
    }),
    expected: [
      { path: 'rep.email', rule: 'too_big', message: 'longer than 60 characters' },
      { path: 'rep.phone', rule: 'too_big', message: 'longer than 24 characters' },
      { path: 'rep.website', rule: 'too_big', message: 'longer than 2000 characters' },
    ],
  },
  {
    name: '17 1 MB value for a patterned text',
    record: withValues({ prospect: { state: 'A'.repeat(MB) } }),
    // The length check aborts: a template's own pattern never runs on an over-long value.
    expected: [{ path: 'prospect.state', rule: 'too_big', message: 'longer than 2 characters' }],
  },
  {
    name: '17 1 MB choice',
    record: withValues({ fields: { plan: 'basic'.repeat(MB / 5) } }),
    expected: [{ path: 'fields.plan', rule: 'choice', message: `must be one of: ${CHOICES.join(' | ')}` }],
  },
  // 18 --------------------------------------------------------------------------- missing glyphs
  {
    name: '18 an emoji no font has, in a field',
    record: withValues({ fields: { headline: 'Hi 🦀' } }),
    code: 'does_not_fit',
    expected: [{ path: 'fields.headline', rule: 'missing_glyph', message: '"🦀" (U+1F980)' }],
  },
  {
    name: '18 an emoji no font has, in a prospect value shown by a locked element',
    record: withValues({ prospect: { firstName: 'Chloé 🦀' } }),
    code: 'does_not_fit',
    expected: [{ path: 'prospect.firstName', rule: 'missing_glyph', message: '(U+1F980)' }],
  },
  // 19 ------------------------------------------------------------------------ control characters
  ...(
    [
      ['NUL', '\u0000'],
      ['BEL', '\u0007'],
      ['ESC', '\u001B'],
      ['DEL', '\u007F'],
      ['tab', '\t'],
      ['line feed', '\n'],
      ['carriage return', '\r'],
      ['U+E000', '\uE000'],
      ['U+E001', '\uE001'],
    ] as const
  ).map(([label, char]): RecordCase => ({
    name: `19 ${label} in a single-line text`,
    record: withValues({ fields: { headline: `Coverage${char}that fits` } }),
    expected: [{ path: 'fields.headline', rule: 'custom', message: SINGLE_LINE_CONTROL }],
  })),
  ...(
    [
      ['NUL', '\u0000'],
      ['vertical tab', '\u000B'],
      ['U+E000 (bold marker)', '\uE000'],
      ['U+E001 (italic marker)', '\uE001'],
      ['NEL (C1 control)', '\u0085'],
      ['CSI (C1 control)', '\u009B'],
    ] as const
  ).map(([label, char]): RecordCase => ({
    name: `19 ${label} in a multiline text`,
    record: withValues({ fields: { note: `Dear ${char}Chloé,\nwelcome.` } }),
    expected: [{ path: 'fields.note', rule: 'custom', message: MULTILINE_CONTROL }],
  })),
  {
    name: '19 U+E000 in an email',
    record: withValues({ rep: { email: 'mateo\uE000@harbor.example' } }),
    expected: [{ path: 'rep.email', rule: 'custom', message: SINGLE_LINE_CONTROL }],
  },
  // 22 ------------------------------------------------------------------- choices and formats
  {
    name: '22 a choice not in the choices',
    record: withValues({ fields: { plan: 'gold' } }),
    expected: [{ path: 'fields.plan', rule: 'choice', message: 'must be one of: basic | plus' }],
  },
  {
    name: '22 a choice in the wrong case',
    record: withValues({ fields: { plan: 'Plus' } }),
    expected: [{ path: 'fields.plan', rule: 'choice', message: 'must be one of: basic | plus' }],
  },
  ...['mateo@', 'mateo at harbor.example', 'mateo@@harbor.example', '<script>@harbor.example'].map(
    (email): RecordCase => ({
      name: `22 malformed email ${JSON.stringify(email)}`,
      record: withValues({ rep: { email } }),
      expected: [{ path: 'rep.email', rule: 'invalid_format', message: 'not an email address' }],
    }),
  ),
  ...['555-CALL-NOW', '12', 'call me', '+1 207 555 0142; DROP'].map((phone): RecordCase => ({
    name: `22 malformed phone ${JSON.stringify(phone)}`,
    record: withValues({ rep: { phone } }),
    expected: [{ path: 'rep.phone', rule: 'invalid_format', message: 'not a phone number' }],
  })),
  ...['javascript:alert(1)', 'ftp://harbor.example', 'harbor.example', 'http://'].map(
    (website): RecordCase => ({
      name: `22 malformed url ${JSON.stringify(website)}`,
      record: withValues({ rep: { website } }),
      expected: [{ path: 'rep.website', rule: 'invalid_format', message: 'not an http(s) URL' }],
    }),
  ),
  {
    name: '22 a value not matching the pattern',
    record: withValues({ prospect: { state: 'me' } }),
    expected: [{ path: 'prospect.state', rule: 'invalid_format', message: 'does not match ^[A-Z]{2}$' }],
  },
];

const parse = (c: RecordCase): unknown => (c.raw ? JSON.parse(c.record as string) : c.record);

describe('the base record', () => {
  it('is valid and renders, so each case below fails for its own reason only', async () => {
    expect(checkRecord(compiled, validRecord(), NO_IMAGES)).toEqual([]);
    const { code, stderr, outDir } = await render(templateDir, validRecord());
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
    expect((await readFile(path.join(outDir, 'piece.pdf'))).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('accepts line breaks in a multiline input', () => {
    expect(
      checkRecord(compiled, withValues({ fields: { note: 'Dear Chloé,\r\nwelcome.\n' } }), NO_IMAGES),
    ).toEqual([]);
  });
});

describe.concurrent('bad records', () => {
  describe.each(cases)('bad record: $name', (c) => {
    it('checkRecord reports exactly these problems', () => {
      expectProblems(checkRecord(compiled, parse(c), NO_IMAGES), c.expected);
    });

    it('preparePiece throws them as one PlatenError', () => {
      const error = preparedError(compiled, parse(c));
      expect(error.code).toBe(c.code ?? 'invalid_record');
      expectProblems(error.problems, c.expected);
      expect(error.message).toBe(error.problems.map(formatProblem).join('\n'));
    });

    it('platen render exits 1, prints them on stderr and writes nothing', async () => {
      const { code, stdout, stderr, outDir } = await render(templateDir, c.record);
      expectProblemLines(stderr, c.expected);
      expect(stdout).toBe('');
      expect(code).toBe(1);
      expect(await listDir(outDir)).toEqual([]);
    });
  });
});

describe('16 prototype keys leave Object.prototype untouched', () => {
  it('after checking and preparing every raw record with __proto__ / constructor keys', () => {
    for (const c of cases.filter((k) => k.raw)) {
      const record = JSON.parse(c.record as string) as unknown;
      checkRecord(compiled, record, NO_IMAGES);
      preparedError(compiled, record);
      const result = validateRecord(compiled, record);
      expect(result.ok).toBe(false);
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('headline');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('17 a 1 MB record file on the command line', () => {
  it('is rejected by the length rule; the command returns', async () => {
    const { code, stderr, outDir } = await render(
      templateDir,
      withValues({ fields: { headline: 'x'.repeat(MB), note: 'y'.repeat(MB) } }),
    );
    expectProblemLines(stderr, [
      { path: 'fields.headline', rule: 'too_big', message: 'longer than 120 characters' },
      { path: 'fields.note', rule: 'too_big', message: 'longer than 400 characters' },
    ]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a 1 MB unknown key is rejected by name', () => {
    const key = `k${'e'.repeat(MB)}`;
    const problems = checkRecord(compiled, withValues({ fields: { [key]: 'x' } }), NO_IMAGES);
    expect(pathsAndRules(problems)).toEqual([{ path: `fields.${key}`, rule: 'unknown_key' }]);
  });
});

describe('18 an emoji outside a template whose only font lacks it', () => {
  let bodyOnly: CompiledTemplate;
  let bodyOnlyDir: string;
  beforeAll(async () => {
    bodyOnlyDir = await makePackage(temp, (m) => {
      m.fallbackFonts = [];
    });
    bodyOnly = await compileTemplate(bodyOnlyDir);
  });

  const expected = [{ path: 'fields.headline', rule: 'missing_glyph', message: '"😀" (U+1F600)' }];

  it('preparePiece names the field and the code point', () => {
    const error = preparedError(bodyOnly, withValues({ fields: { headline: 'Hi 😀' } }));
    expect(error.code).toBe('does_not_fit');
    expectProblems(error.problems, expected);
  });

  it('platen render exits 1 with the problem and writes nothing', async () => {
    const { code, stderr, outDir } = await render(bodyOnlyDir, withValues({ fields: { headline: 'Hi 😀' } }));
    expectProblemLines(stderr, expected);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });
});

describe.concurrent('20 unreadable record files on the command line', () => {
  it('invalid JSON: exit 1, the file named with the JSON error, nothing written', async () => {
    const { code, stderr, file, outDir } = await render(templateDir, '{"rep": {"name": "Mateo",}');
    expect(lines(stderr)).toHaveLength(1);
    expect(lines(stderr)[0]).toMatch(new RegExp(`^${escapeRegExp(file)}: not valid JSON: `));
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('an empty file: exit 1 as invalid JSON', async () => {
    const { code, stderr, file, outDir } = await render(templateDir, '');
    expect(lines(stderr)).toEqual([
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}: not valid JSON`)),
    ]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a missing record file: exit 2 (usage), nothing written', async () => {
    const work = await temp.make('platen-record-');
    const missing = path.join(work, 'nope.json');
    const out = path.join(work, 'piece.pdf');
    const { code, stderr } = await runCli(['render', templateDir, '--record', missing, '--out', out]);
    expect(stderr).toBe(`platen: cannot read ${missing}\n`);
    expect(code).toBe(2);
    expect(await listDir(work)).toEqual([]);
  });

  it('an existing --out file is left untouched by a rejected record', async () => {
    const { file, outDir } = await recordFile(withValues({ fields: { plan: 'gold' } }));
    const out = path.join(outDir, 'piece.pdf');
    await writeFile(out, 'ORIGINAL PROOF');
    const { code, stderr } = await runCli(['render', templateDir, '--record', file, '--out', out]);
    expect(lines(stderr)).toEqual(['fields.plan: must be one of: basic | plus']);
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('ORIGINAL PROOF');
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });

  it('an existing --out file is left untouched by invalid JSON', async () => {
    const { file, outDir } = await recordFile('not json');
    const out = path.join(outDir, 'piece.pdf');
    await writeFile(out, 'ORIGINAL PROOF');
    const { code } = await runCli(['render', templateDir, '--record', file, '--out', out]);
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('ORIGINAL PROOF');
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });
});

describe.concurrent('21 image inputs (insurance-brochure rep.photo)', () => {
  let brochure: CompiledTemplate;
  /** The brochure's first sample record with rep.photo replaced. */
  let recordWithPhoto: (photo: string) => Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    brochure = await compileTemplate(BROCHURE_DIR);
    const manifest = JSON.parse(await readFile(path.join(BROCHURE_DIR, 'template.json'), 'utf8')) as {
      samples: { record: Record<string, Record<string, unknown>> }[];
    };
    const sample = manifest.samples[0]!.record;
    recordWithPhoto = (photo) => ({ ...sample, rep: { ...sample.rep, photo } });
  });

  /** A folder holding `record.json` (photo relative to it), the named files, and an empty `out/`. */
  async function photoRecord(photo: string, files: Record<string, Buffer | string>) {
    const { file, outDir } = await recordFile(recordWithPhoto(photo));
    const dir = path.dirname(file);
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
    return { file, dir, outDir };
  }

  const renderBrochure = (file: string, outDir: string) =>
    runCli(['render', BROCHURE_DIR, '--record', file, '--out', path.join(outDir, 'piece.pdf')]);

  it('the sample photo itself renders (control)', async () => {
    const { file, outDir } = await photoRecord('me.png', { 'me.png': await pngBytes(400, 400) });
    const { code, stderr } = await renderBrochure(file, outDir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });

  it('a .jpg that holds text: bad_image at rep.photo', async () => {
    const { dir } = await photoRecord('headshot.jpg', { 'headshot.jpg': 'not a photo\n' });
    const error = await loadRecordImages(brochure, recordWithPhoto('headshot.jpg'), dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatenError);
    expectProblems((error as PlatenError).problems, [
      { path: 'rep.photo', rule: 'bad_image', message: /^headshot\.jpg: / },
    ]);
  });

  it('a .jpg that holds text: platen render exits 1 and writes nothing', async () => {
    const { file, outDir } = await photoRecord('headshot.jpg', { 'headshot.jpg': 'not a photo\n' });
    const { code, stderr } = await renderBrochure(file, outDir);
    expectProblemLines(stderr, [{ path: 'rep.photo', rule: 'bad_image', message: /^headshot\.jpg: / }]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a missing photo file: bad_image at rep.photo', async () => {
    const { dir } = await photoRecord('gone.jpg', {});
    const error = await loadRecordImages(brochure, recordWithPhoto('gone.jpg'), dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatenError);
    expectProblems((error as PlatenError).problems, [
      { path: 'rep.photo', rule: 'bad_image', message: /^gone\.jpg: / },
    ]);
  });

  it('a missing photo file: platen render exits 1 and writes nothing', async () => {
    const { file, outDir } = await photoRecord('gone.jpg', {});
    const { code, stderr } = await renderBrochure(file, outDir);
    expectProblemLines(stderr, [{ path: 'rep.photo', rule: 'bad_image', message: /^gone\.jpg: / }]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a photo the caller did not supply: missing_image from preparePiece', () => {
    const error = preparedError(brochure, recordWithPhoto('uploads/unknown.jpg'));
    expect(error.code).toBe('invalid_record');
    expectProblems(error.problems, [
      { path: 'rep.photo', rule: 'missing_image', message: 'uploads/unknown.jpg' },
    ]);
  });

  it('a photo smaller than the input minWidth × minHeight (300 × 300) is rejected', async () => {
    const { file, outDir } = await photoRecord('tiny.png', { 'tiny.png': await pngBytes(16, 16) });
    const { code, stderr } = await renderBrochure(file, outDir);
    expect(lines(stderr)).toEqual([expect.stringMatching(/^rep\.photo: .*300/)]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
