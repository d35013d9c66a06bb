/**
 * The rep's form in words: problems named by the field's label with every problem of a field kept,
 * no path, rule code or regular expression; the pages each input shows on; placeholders for the
 * preview until the rep types.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { validateRecord } from '../../src/merge/merge.js';
import type { Manifest } from '../../src/model/manifest.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { manifestSchema } from '../../src/template/manifest.js';
import { buildRecordSchema } from '../../src/template/record-schema.js';
import { fieldViews, pageProblems, previewValues } from '../../src/web/form.js';
import { manifest } from '../support/records.js';

let brochure: Manifest;
let postcard: Manifest;
beforeAll(async () => {
  brochure = manifestSchema.parse(await manifest('insurance-brochure'));
  postcard = manifestSchema.parse(await manifest('postcard-6x4'));
});

/** What a record's validation says of these values, as the form would show it. */
function refused(m: Manifest, record: Record<string, Record<string, unknown>>) {
  const checked = validateRecord(
    {
      recordSchema: buildRecordSchema(m),
      inputs: { rep: m.rep, prospect: m.prospect, fields: m.fields },
    } as unknown as CompiledTemplate,
    record,
  );
  if (checked.ok) throw new Error('the record was accepted');
  return pageProblems(m, checked.problems);
}

describe('problems in words', () => {
  it('leads with the label and says a pattern in words, never the path, rule or expression', () => {
    const problems = refused(brochure, {
      rep: { licenseNumber: 'me-1234' },
      prospect: { id: 'not valid!', firstName: 'Ada', lastName: 'Vance', productLine: 'home' },
    });
    const licence = problems.find((p) => p.field === 'rep.licenseNumber');
    expect(licence).toEqual({
      field: 'rep.licenseNumber',
      message: 'Licence number: 4 to 20 capital letters, digits or hyphens, such as ME-1234567',
      text: '4 to 20 capital letters, digits or hyphens, such as ME-1234567',
    });
    expect(problems.find((p) => p.field === 'prospect.id')?.message).toBe(
      'Prospect ID: letters, digits, hyphens and underscores only, with no spaces',
    );
    expect(problems.find((p) => p.field === 'rep.name')?.message).toBe('Your name: required');
    for (const p of problems) expect(p.message).not.toMatch(/\^|\$|\[A-Z|rep\.|prospect\.|invalid_/);
  });

  it('keeps every problem of a field: two characters no font shows are both named', () => {
    const problems = pageProblems(postcard, [
      {
        path: 'fields.message',
        rule: 'missing_glyph',
        message: 'no font of the template can show "🦜" (U+1F99C)',
      },
      {
        path: 'fields.message',
        rule: 'missing_glyph',
        message: 'no font of the template can show "🐙" (U+1F419)',
      },
    ]);
    expect(problems.map((p) => p.text)).toEqual([
      'No font of the template can show "🦜" (U+1F99C)',
      'No font of the template can show "🐙" (U+1F419)',
    ]);
    const views = fieldViews(postcard, 'fields', {}, problems);
    expect(views.find((v) => v.name === 'fields.message')?.errors).toHaveLength(2);
  });

  it('names an element by the inputs it shows, and hides an expression in any message', () => {
    const [greeting, other] = pageProblems(postcard, [
      { path: 'elements.recipient', rule: 'overflow', message: 'too long for its box at 8 pt' },
      { path: 'page', rule: 'x', message: 'value does not match ^[A-Z]{2}$ here' },
    ]);
    expect(greeting!.message).toMatch(
      /^First name, Last name, Company, Street address, .*ZIP code: too long/,
    );
    expect(greeting!.field).toBeUndefined();
    expect(other!.message).toBe('The piece: value is not in the form this field needs here');
  });
});

describe('the form and its preview', () => {
  it('knows the page each input shows on: the postcard’s message is on its back', () => {
    const fields = fieldViews(postcard, 'fields', {}, []);
    expect(fields.find((f) => f.name === 'fields.message')?.pages).toBe('2');
    const prospect = fieldViews(postcard, 'prospect', {}, []);
    expect(prospect.find((f) => f.name === 'prospect.firstName')?.pages).toBe('1 2');
    expect(prospect.find((f) => f.name === 'prospect.zip')?.pages).toBe('2');
  });

  it('previews placeholders, not a sample’s details, for required inputs left empty', () => {
    const values = previewValues(brochure, { 'prospect.firstName': 'Winifred', 'prospect.lastName': ' ' });
    expect(values).toMatchObject({
      'prospect.firstName': 'Winifred',
      'prospect.lastName': 'Last name',
      'prospect.id': 'ID-1',
      'prospect.productLine': 'auto',
    });
    // Optional inputs print nothing when empty, so they show nothing.
    expect(values['prospect.company']).toBeUndefined();
    // A value the template refuses is previewed as its placeholder too.
    const refused = [{ path: 'prospect.id', rule: 'invalid_format', message: 'Prospect ID: letters…' }];
    expect(previewValues(brochure, { 'prospect.id': 'bad id!' }, refused)['prospect.id']).toBe('ID-1');
    // The placeholders pass the template's own rules, so the preview shows at once.
    const record: Record<string, Record<string, unknown>> = { prospect: {}, fields: {} };
    for (const [name, value] of Object.entries(values)) {
      const [scope, key] = name.split('.') as [string, string];
      record[scope]![key] = value;
    }
    const checked = validateRecord(
      {
        recordSchema: buildRecordSchema(brochure),
        inputs: { rep: brochure.rep, prospect: brochure.prospect, fields: brochure.fields },
      } as unknown as CompiledTemplate,
      {
        rep: { name: 'A', phone: '207 555 0100', email: 'a@b.example', licenseNumber: 'ME-1234' },
        ...record,
      },
    );
    expect(checked.ok ? [] : checked.problems).toEqual([]);
    const samples = JSON.stringify(brochure.samples.map((s) => s.record));
    for (const name of ['prospect.id', 'prospect.lastName'])
      expect(samples).not.toContain(`"${values[name]}"`);
  });
});
