/**
 * Bad records: each case is one broken record for the bad-input base package and the problems, with
 * their exact path, rule and message, that checking it must report. records.test.ts checks them
 * against checkRecord and preparePiece, records-cli.test.ts against `platen render --record`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CHOICES, validRecord } from '../support/base-package.js';
import { TempDirs } from '../support/files.js';
import type { Expected } from '../support/problems.js';
import { BROCHURE_DIR } from '../support/repo.js';

export interface RecordCase {
  name: string;
  /** The record, or its raw JSON text (for keys a JS object literal cannot hold). */
  record: unknown;
  raw?: boolean;
  /** PlatenError code preparePiece throws: validation problems, or problems found by fitting. */
  code?: 'invalid_record' | 'does_not_fit';
  expected: Expected[];
}

export const MB = 1024 * 1024;
const LOCKED = 'not an input of this template (locked content cannot be changed)';
const SINGLE_LINE_CONTROL = 'contains a line break or control character';
const MULTILINE_CONTROL = 'contains a control character';

/** The valid record with some values replaced (scope by scope). */
export function withValues(changes: {
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

export const cases: RecordCase[] = [
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
    expected: [
      {
        path: 'prospect.state',
        rule: 'invalid_format',
        message: 'state: not in the form this field needs',
      },
    ],
  },
];

/** A case's record as checking gets it: parsed from its JSON text when raw. */
export const parse = (c: RecordCase): unknown => (c.raw ? JSON.parse(c.record as string) : c.record);

/** The temp dirs of the base package and record files; each test file cleans them up. */
export const temp = new TempDirs();

/**
 * A fresh folder holding `record.json` (written as given when a string), the named `files` beside it
 * (an image input's path is relative to the record file), and an empty `out/`.
 */
export async function recordFile(
  record: unknown,
  files: Record<string, Buffer | string> = {},
): Promise<{ file: string; dir: string; outDir: string }> {
  const dir = await temp.make('platen-record-');
  const file = path.join(dir, 'record.json');
  const outDir = path.join(dir, 'out');
  await mkdir(outDir);
  await writeFile(file, typeof record === 'string' ? record : JSON.stringify(record));
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
  return { file, dir, outDir };
}

/** The brochure's first sample record, with rep.photo set to whatever a case needs. */
export async function brochureWithPhoto(): Promise<
  (photo: string) => Record<string, Record<string, unknown>>
> {
  const manifest = JSON.parse(await readFile(path.join(BROCHURE_DIR, 'template.json'), 'utf8')) as {
    samples: { record: Record<string, Record<string, unknown>> }[];
  };
  const sample = manifest.samples[0]!.record;
  return (photo) => ({ ...sample, rep: { ...sample.rep, photo } });
}
