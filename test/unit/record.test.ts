import { beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { validateRecord } from '../../src/merge/merge.js';
import { compileTemplate } from '../../src/template/compile.js';
import { isoDay, MAX_STRING_LENGTH } from '../../src/model/manifest.js';
import type { PieceRecord } from '../../src/model/record.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { manifestSchema } from '../../src/template/manifest.js';
import { buildRecordSchema, recordJsonSchema } from '../../src/template/record-schema.js';
import { type BrochureRecord, brochureRecord, minimalManifest } from '../support/records.js';
import { BROCHURE_DIR } from '../support/repo.js';

let brochure: CompiledTemplate;
beforeAll(async () => {
  brochure = await compileTemplate(BROCHURE_DIR);
});

/** A small template with one input of every type, for the rules the brochure does not use. */
const small = manifestSchema.parse({
  ...minimalManifest(),
  prospect: {
    city: {},
    email: { type: 'email' },
    phone: { type: 'phone' },
    site: { type: 'url' },
    since: { type: 'date' },
    vip: { type: 'boolean', default: false },
    tier: { type: 'choice', choices: ['gold', 'silver'], default: 'silver' },
    note: { type: 'multiline', maxLength: 50 },
    code: { pattern: '^[A-Z]{3}$' },
  },
});
/** validateRecord only reads the schema and inputs; the rest of a CompiledTemplate is not needed for validation. */
const forValidation = (manifest: typeof small) =>
  ({
    recordSchema: buildRecordSchema(manifest),
    inputs: { rep: manifest.rep, prospect: manifest.prospect, fields: manifest.fields },
  }) as unknown as CompiledTemplate;
const smallTemplate = forValidation(small);

function ok(compiled: CompiledTemplate, input: unknown): PieceRecord {
  const result = validateRecord(compiled, input);
  if (!result.ok) throw new Error(`expected a valid record, got ${JSON.stringify(result.problems)}`);
  return result.record;
}

function problems(compiled: CompiledTemplate, input: unknown): Problem[] {
  const result = validateRecord(compiled, input);
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.record)}`);
  return result.problems;
}

/** The small template's record with `headline` filled and the given prospect values. */
const smallRecord = (prospect: Record<string, unknown>) => ({ fields: { headline: 'Hi' }, prospect });

function withRep(values: Record<string, unknown>): BrochureRecord {
  const record = brochureRecord();
  return { ...record, rep: { ...record.rep, ...values } };
}
function withProspect(values: Record<string, unknown>): BrochureRecord {
  const record = brochureRecord();
  return { ...record, prospect: { ...record.prospect, ...values } };
}
function withFields(values: Record<string, unknown>): BrochureRecord {
  const record = brochureRecord();
  return { ...record, fields: { ...record.fields, ...values } };
}

describe('validateRecord: a valid record', () => {
  it('passes, with defaults applied', () => {
    const record = ok(brochure, brochureRecord());
    expect(record.rep).toEqual({
      name: 'Ann Lee',
      title: 'Licensed Insurance Agent',
      licenseNumber: 'ME-1234',
      phone: '(415) 555-0141',
      email: 'ann.lee@example.com',
    });
    expect(record.prospect).toEqual({ id: 'P-1001', firstName: 'Bo', lastName: 'Chen', productLine: 'auto' });
    expect(record.fields).toEqual({
      headline: 'Coverage that keeps you steady',
      message: 'Thanks for meeting me last week.',
    });
  });

  it('applies defaults for absent required inputs that have one', () => {
    const record = ok(brochure, { ...brochureRecord(), fields: {} });
    expect(record.fields.headline).toBe('Coverage that keeps you steady');
    expect(record.fields.message).toMatch(/^Thank you for taking the time/);
  });

  it('applies defaults when a whole group is left out', () => {
    const { rep, prospect } = brochureRecord();
    const record = ok(brochure, { rep, prospect });
    expect(record.fields.headline).toBe('Coverage that keeps you steady');
    expect(record.fields.message).toMatch(/^Thank you for taking the time/);
  });

  it('keeps a given value over the default', () => {
    expect(ok(brochure, withRep({ title: 'Agent' })).rep.title).toBe('Agent');
  });

  it('trims single-line values', () => {
    expect(ok(brochure, withProspect({ firstName: '  Bo  ' })).prospect.firstName).toBe('Bo');
  });

  it('takes the sample records of the brochure', () => {
    for (const sample of brochure.manifest.samples) {
      expect(validateRecord(brochure, sample.record).ok, sample.name).toBe(true);
    }
  });
});

describe('validateRecord: required inputs', () => {
  it('names a missing required input', () => {
    const record = brochureRecord();
    delete record.rep.name;
    expect(problems(brochure, record)).toEqual([
      { path: 'rep.name', rule: 'invalid_type', message: 'required' },
    ]);
  });

  it('reports every missing input, not just the first', () => {
    expect(problems(brochure, { ...brochureRecord(), rep: {} }).map((p) => p.path)).toEqual([
      'rep.name',
      'rep.licenseNumber',
      'rep.phone',
      'rep.email',
    ]);
  });

  it.each([
    ['an empty string', ''],
    ['null', null],
  ])('treats %s as absent', (_what, value) => {
    expect(problems(brochure, withRep({ name: value }))).toEqual([
      { path: 'rep.name', rule: 'invalid_type', message: 'required' },
    ]);
    // …and as absent for inputs with a default
    expect(ok(brochure, withRep({ title: value })).rep.title).toBe('Licensed Insurance Agent');
    // …and for optional inputs, which stay absent
    expect(ok(brochure, withProspect({ company: value })).prospect.company).toBeUndefined();
  });

  it('treats a blank (whitespace-only) string as absent for a required input', () => {
    expect(problems(brochure, withRep({ name: '   ' }))).toEqual([
      { path: 'rep.name', rule: 'invalid_type', message: 'required' },
    ]);
  });

  it('treats a blank (whitespace-only) string as absent for an input with a default', () => {
    expect(ok(brochure, withRep({ title: ' \t ' }))?.rep.title).toBe('Licensed Insurance Agent');
  });

  it('checks the required inputs of a group that is left out entirely', () => {
    const { rep, fields } = brochureRecord();
    expect(problems(brochure, { rep, fields }).map((p) => p.path)).toEqual([
      'prospect.id',
      'prospect.firstName',
      'prospect.lastName',
      'prospect.productLine',
    ]);
  });

  it('rejects an empty record', () => {
    expect(problems(brochure, {}).map((p) => p.path)).toEqual(
      expect.arrayContaining(['rep.name', 'prospect.id', 'prospect.productLine']),
    );
  });

  it('rejects values of the wrong type', () => {
    expect(problems(brochure, withRep({ name: 42 }))).toEqual([
      { path: 'rep.name', rule: 'invalid_type', message: 'expected text' },
    ]);
    expect(problems(brochure, { ...brochureRecord(), rep: 'Ann' })).toEqual([
      { path: 'rep', rule: 'invalid_type', message: 'expected an object' },
    ]);
    expect(problems(brochure, null)).toEqual([expect.objectContaining({ path: '', rule: 'invalid_type' })]);
  });
});

describe('validateRecord: rules', () => {
  it('names the input that is too long', () => {
    expect(problems(brochure, withProspect({ firstName: 'x'.repeat(41) }))).toEqual([
      { path: 'prospect.firstName', rule: 'too_big', message: 'longer than 40 characters' },
    ]);
    expect(ok(brochure, withProspect({ firstName: 'x'.repeat(40) })).prospect.firstName).toHaveLength(40);
  });

  it('rejects a 1 MB string with a maxLength rule', () => {
    const huge = 'x'.repeat(1024 * 1024);
    expect(problems(brochure, withProspect({ company: huge }))).toEqual([
      { path: 'prospect.company', rule: 'too_big', message: 'longer than 60 characters' },
    ]);
    // Without a maxLength in the template, the engine's own limit applies.
    expect(problems(smallTemplate, smallRecord({ city: huge }))).toEqual([
      { path: 'prospect.city', rule: 'too_big', message: `longer than ${MAX_STRING_LENGTH} characters` },
    ]);
  });

  it('rejects a choice that is not one of the choices, by rule "choice"', () => {
    const found = problems(brochure, withProspect({ productLine: 'boat' }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      path: 'prospect.productLine',
      message: 'must be one of: auto | home | life | business',
    });
    expect(found[0]?.rule).toBe('choice');
  });

  it('matches choices exactly', () => {
    expect(problems(brochure, withProspect({ productLine: 'Auto' }))[0]?.path).toBe('prospect.productLine');
    expect(ok(brochure, withProspect({ productLine: 'life' })).prospect.productLine).toBe('life');
  });

  it('checks the template pattern', () => {
    expect(problems(brochure, withProspect({ id: 'P 1001' }))).toEqual([
      {
        path: 'prospect.id',
        rule: 'invalid_format',
        message: 'Prospect ID: letters, digits, hyphens and underscores only, with no spaces',
      },
    ]);
    // A custom pattern without help is described in general words, never shown.
    expect(problems(smallTemplate, smallRecord({ code: 'ABCD' }))).toEqual([
      { path: 'prospect.code', rule: 'invalid_format', message: 'code: not in the form this field needs' },
    ]);
    expect(ok(smallTemplate, smallRecord({ code: 'ABC' })).prospect.code).toBe('ABC');
  });

  it('checks emails', () => {
    expect(problems(brochure, withRep({ email: 'ann at example.com' }))).toEqual([
      { path: 'rep.email', rule: 'invalid_format', message: 'not an email address' },
    ]);
    expect(ok(brochure, withRep({ email: 'a.b+c@mail.example.org' })).rep.email).toBe(
      'a.b+c@mail.example.org',
    );
  });

  it.each(['(415) 555-0141', '+44 20 7946 0958', '415.555.0141', '+1 207 555 0163', '415-555-0141 ext. 12'])(
    'accepts the phone number %j',
    (phone) => {
      expect(ok(brochure, withRep({ phone })).rep.phone).toBe(phone);
    },
  );

  it.each(['call me', '555', '555-CALL-NOW', '++1 555 0100'])('rejects the phone number %j', (phone) => {
    expect(problems(brochure, withRep({ phone }))).toEqual([
      { path: 'rep.phone', rule: 'invalid_format', message: 'not a phone number' },
    ]);
  });

  it('checks URLs: http(s) only', () => {
    for (const site of ['https://example.com/quote?id=1', 'http://example.org']) {
      expect(ok(smallTemplate, smallRecord({ site })).prospect.site).toBe(site);
    }
    for (const site of ['example.com', 'ftp://example.com/file', 'javascript:alert(1)']) {
      expect(problems(smallTemplate, smallRecord({ site }))).toEqual([
        { path: 'prospect.site', rule: 'invalid_format', message: 'not an http(s) URL' },
      ]);
    }
  });

  it('checks dates: real calendar days as YYYY-MM-DD', () => {
    expect(ok(smallTemplate, smallRecord({ since: '2024-02-29' })).prospect.since).toBe('2024-02-29');
    for (const since of ['2023-02-29', '2024-13-01', '03/05/2024', '2024-3-5']) {
      expect(problems(smallTemplate, smallRecord({ since }))).toEqual([
        { path: 'prospect.since', rule: 'invalid_format', message: 'not a date (YYYY-MM-DD)' },
      ]);
    }
  });

  it('checks booleans', () => {
    expect(ok(smallTemplate, smallRecord({ vip: true })).prospect.vip).toBe(true);
    expect(ok(smallTemplate, smallRecord({})).prospect.vip).toBe(false);
    expect(problems(smallTemplate, smallRecord({ vip: 'yes' }))).toEqual([
      { path: 'prospect.vip', rule: 'invalid_type', message: 'expected true or false' },
    ]);
  });

  it('applies a choice default', () => {
    expect(ok(smallTemplate, smallRecord({})).prospect.tier).toBe('silver');
    expect(ok(smallTemplate, smallRecord({ tier: 'gold' })).prospect.tier).toBe('gold');
  });
});

describe('validateRecord: characters', () => {
  it.each([
    ['a bell', 'Acme\u0007'],
    ['a NUL', 'Ac\u0000me'],
    ['a tab', 'Acme\tInc'],
    ['a line feed', 'Acme\nInc'],
    ['a DEL', 'Acme\u007F'],
    ['the bold marker U+E000', 'Acme \uE000Inc'],
    ['the italic marker U+E001', 'Acme \uE001Inc'],
  ])('rejects %s in a single-line input', (_what, company) => {
    expect(problems(brochure, withProspect({ company }))).toEqual([
      {
        path: 'prospect.company',
        rule: 'custom',
        message: 'contains a line break or control character',
      },
    ]);
  });

  it.each([
    ['a bell', 'Hi\u0007'],
    ['the bold marker U+E000', 'Hi \uE000there'],
    ['the italic marker U+E001', 'Hi \uE001there'],
    ['an escape', 'Hi\u001B[31m'],
  ])('rejects %s in a multiline input', (_what, message) => {
    expect(problems(brochure, withFields({ message }))).toEqual([
      { path: 'fields.message', rule: 'custom', message: 'contains a control character' },
    ]);
  });

  it('keeps line feeds in multiline input and normalizes CR LF and CR', () => {
    const record = ok(brochure, withFields({ message: 'Dear Bo,\r\n\r\nsee you\rsoon.\nAnn' }));
    expect(record.fields.message).toBe('Dear Bo,\n\nsee you\nsoon.\nAnn');
  });

  it('trims multiline values at both ends only', () => {
    expect(ok(brochure, withFields({ message: '\n  Hi,\n  there  \n' })).fields.message).toBe('Hi,\n  there');
  });

  it('counts maxLength after normalizing line breaks', () => {
    // 25 × "a\r\n" is 75 characters as sent, 49 after normalizing and trimming: within maxLength 50.
    const note = 'a\r\n'.repeat(25);
    expect(ok(smallTemplate, smallRecord({ note })).prospect.note).toBe('a\n'.repeat(24) + 'a');
  });

  it('accepts accents, typographic punctuation and symbols', () => {
    const lastName = 'O’Brien-Smith “Zoë” — Ω';
    expect(ok(brochure, withProspect({ lastName })).prospect.lastName).toBe(lastName);
  });
});

describe('validateRecord: unknown keys', () => {
  it('names an unknown field key by its path', () => {
    expect(problems(brochure, withFields({ x: 'hi' }))).toEqual([
      {
        path: 'fields.x',
        rule: 'unknown_key',
        message: 'not an input of this template (locked content cannot be changed)',
      },
    ]);
  });

  it('names unknown keys in every group and at the top level', () => {
    const record = { ...brochureRecord(), extra: 1 };
    record.rep.disclaimer = 'none';
    record.prospect.price = '0';
    expect(
      problems(brochure, record)
        .map((p) => `${p.path}:${p.rule}`)
        .sort(),
    ).toEqual(['extra:unknown_key', 'prospect.price:unknown_key', 'rep.disclaimer:unknown_key']);
  });

  it('rejects a __proto__ key and never pollutes Object.prototype', () => {
    const input = JSON.parse('{"fields":{"__proto__":{"x":1}}}') as unknown;
    expect(problems(brochure, input)).toContainEqual({
      path: 'fields.__proto__',
      rule: 'unknown_key',
      message: 'not an input of this template (locked content cannot be changed)',
    });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('rejects a __proto__ key next to valid values', () => {
    const record = brochureRecord();
    const input = JSON.parse(
      JSON.stringify(record).replace('"fields":{', '"fields":{"__proto__":{"polluted":true},'),
    ) as unknown;
    expect(problems(brochure, input)).toEqual([expect.objectContaining({ path: 'fields.__proto__' })]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects "constructor" as a key', () => {
    expect(problems(brochure, withFields({ constructor: 'x' }))).toEqual([
      expect.objectContaining({ path: 'fields.constructor', rule: 'unknown_key' }),
    ]);
  });
});

describe('recordJsonSchema', () => {
  it('describes the brochure record as JSON Schema draft 2020-12', () => {
    const schema = recordJsonSchema(brochure.manifest);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    // fields has defaults for all its required inputs, so only rep and prospect must be sent.
    expect(schema.required).toEqual(['rep', 'prospect']);

    const properties = schema.properties as Record<string, Record<string, unknown>>;
    const rep = properties.rep!;
    const prospect = properties.prospect!;
    const fields = properties.fields!;
    for (const group of [rep, prospect, fields]) {
      expect(group.type).toBe('object');
      expect(group.additionalProperties).toBe(false);
    }
    expect(rep.required).toEqual(['name', 'licenseNumber', 'phone', 'email']);
    expect(prospect.required).toEqual(['id', 'firstName', 'lastName', 'productLine']);
    expect(fields.required).toEqual([]);

    const p = prospect.properties as Record<string, Record<string, unknown>>;
    expect(p.productLine).toEqual({
      title: 'Product line',
      type: 'string',
      enum: ['auto', 'home', 'life', 'business'],
      'x-platen-type': 'choice',
    });
    expect(p.id).toMatchObject({ type: 'string', maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' });
    expect(p.company).toMatchObject({ type: 'string', maxLength: 60 });

    const r = rep.properties as Record<string, Record<string, unknown>>;
    expect(r.email).toMatchObject({ type: 'string', format: 'email', maxLength: 48 });
    expect(r.title).toMatchObject({ default: 'Licensed Insurance Agent' });
    expect(r.photo).toMatchObject({ type: 'string', maxLength: MAX_STRING_LENGTH, 'x-platen-type': 'image' });
    const phonePattern = new RegExp(String(r.phone?.pattern), 'u');
    expect(phonePattern.test('(415) 555-0141')).toBe(true);
    expect(phonePattern.test('call me')).toBe(false);
  });

  it('describes every input type of a small template', () => {
    const schema = recordJsonSchema(small);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    const p = properties.prospect?.properties as Record<string, Record<string, unknown>>;
    expect(p.site).toMatchObject({ type: 'string', format: 'uri' });
    expect(p.since).toMatchObject({ type: 'string', format: 'date' });
    expect(p.vip).toEqual({ type: 'boolean', default: false, 'x-platen-type': 'boolean' });
    expect(p.tier).toEqual({
      type: 'string',
      enum: ['gold', 'silver'],
      default: 'silver',
      'x-platen-type': 'choice',
    });
    expect(p.note).toMatchObject({ type: 'string', maxLength: 50, 'x-platen-type': 'multiline' });
    expect(p.city).toEqual({ type: 'string', maxLength: MAX_STRING_LENGTH, 'x-platen-type': 'text' });
    expect(properties.fields?.required).toEqual(['headline']);
    expect(schema.required).toEqual(['fields']);
  });
});

describe('a date input that defaults to the day of the run', () => {
  const manifest = minimalManifest();
  const dated = manifestSchema.parse({
    ...manifest,
    fields: { ...manifest.fields, letterDate: { type: 'date', required: true, default: 'today' } },
  });
  const template = forValidation(dated);

  it('takes the day it is given when the record leaves it blank, and keeps a date the record gives', () => {
    const headline = 'Hello';
    for (const date of [{}, { letterDate: '' }, { letterDate: '  ' }]) {
      const result = validateRecord(template, { fields: { headline, ...date } }, '2030-01-02');
      expect(result.ok && result.record.fields.letterDate).toBe('2030-01-02');
    }
    const given = validateRecord(template, { fields: { headline, letterDate: '2025-03-14' } }, '2030-01-02');
    expect(given.ok && given.record.fields.letterDate).toBe('2025-03-14');
    const wrong = validateRecord(template, { fields: { headline, letterDate: 'today' } }, '2030-01-02');
    expect(wrong.ok).toBe(false);
  });

  it("takes the machine's day when it is given none", () => {
    const before = isoDay(new Date());
    const result = validateRecord(template, { fields: { headline: 'Hello' } });
    const after = isoDay(new Date());
    expect([before, after]).toContain(result.ok && result.record.fields.letterDate);
  });

  it('is not required of a record and says so in the JSON Schema, with no date that is none', () => {
    const schema = recordJsonSchema(dated) as { properties: { fields: Record<string, unknown> } };
    expect(schema.properties.fields.required).not.toContain('letterDate');
    expect((schema.properties.fields.properties as Record<string, unknown>).letterDate).toMatchObject({
      format: 'date',
      'x-platen-default': 'today',
    });
    expect((schema.properties.fields.properties as Record<string, object>).letterDate).not.toHaveProperty(
      'default',
    );
  });

  it('is a date input’s default only', () => {
    const text = manifestSchema.safeParse({
      ...manifest,
      fields: { ...manifest.fields, note: { default: 'today' } },
    });
    expect(text.success).toBe(false);
    expect(text.error?.issues[0]?.message).toBe('only date inputs take "today" as a default');
  });
});
