import { describe, expect, it } from 'vitest';
import { validateRecord } from '../../src/merge/merge.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { PATTERN_PRESETS } from '../../src/model/patterns.js';
import { manifestSchema } from '../../src/template/manifest.js';
import { buildRecordSchema, recordJsonSchema } from '../../src/template/record-schema.js';
import { minimalManifest } from '../support/records.js';

/** For each preset: values it accepts and values it refuses. */
const EXAMPLES: Record<string, { good: string[]; bad: string[] }> = {
  'us-zip': { good: ['04101', '04101-1234'], bad: ['4101', '04101-12', 'ME 04101'] },
  'us-state': { good: ['ME', 'CA'], bad: ['me', 'Maine', 'M'] },
  'us-phone': {
    good: ['(207) 555-0123', '207-555-0123', '207.555.0123', '+1 207 555 0123'],
    bad: ['555-0123', '207-555-01234', 'call me'],
  },
  'licence-number': { good: ['ME-1234567', 'AB12'], bad: ['ab12', 'A1', '-ABCD'] },
  'record-id': { good: ['P-1001', 'abc_12'], bad: ['P 1001', 'P/1'] },
  digits: { good: ['12345', '0'], bad: ['12a', '-1'] },
  'caps-digits': { good: ['AB123'], bad: ['ab123', 'AB-1'] },
  'imb-serial': { good: ['000000123'], bad: ['12345678', '1234567890'] },
};

function compiledWith(inputs: Record<string, unknown>): CompiledTemplate {
  const manifest = manifestSchema.parse({
    ...minimalManifest(),
    fields: {},
    pages: [{ name: 'front', elements: [] }],
    prospect: inputs,
  });
  const { rep, prospect, fields } = manifest;
  return {
    recordSchema: buildRecordSchema(manifest),
    inputs: { rep, prospect, fields },
  } as unknown as CompiledTemplate;
}

describe('pattern presets', () => {
  it('every preset has examples here, a label and a description in words', () => {
    expect(PATTERN_PRESETS.map((p) => p.id).sort()).toEqual(Object.keys(EXAMPLES).sort());
    for (const preset of PATTERN_PRESETS) {
      expect(preset.label).not.toBe('');
      expect(preset.description).not.toMatch(/[\^$\\[\]]/);
    }
  });

  it.each(PATTERN_PRESETS.map((p) => [p.id, p] as const))('%s accepts and refuses as described', (id) => {
    const compiled = compiledWith({ value: { label: 'Value', format: id } });
    const preset = PATTERN_PRESETS.find((p) => p.id === id)!;
    // The example a form shows as a placeholder is one the preset accepts.
    for (const good of [...EXAMPLES[id]!.good, preset.example]) {
      expect(validateRecord(compiled, { prospect: { value: good } }).ok, good).toBe(true);
    }
    for (const bad of EXAMPLES[id]!.bad) {
      const result = validateRecord(compiled, { prospect: { value: bad } });
      expect(result.ok ? [] : result.problems, bad).toEqual([
        { path: 'prospect.value', rule: 'invalid_format', message: `Value: ${preset.description}` },
      ]);
    }
  });

  it('a custom pattern says its help, or general words, never the expression', () => {
    const compiled = compiledWith({
      helped: {
        label: 'Branch code',
        pattern: '^B[0-9]{3}$',
        patternHelp: 'B and three digits, such as B012',
      },
      plain: { label: 'Plain', pattern: '^B[0-9]{3}$' },
    });
    const result = validateRecord(compiled, { prospect: { helped: 'X', plain: 'X' } });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'Branch code: B and three digits, such as B012',
      'Plain: not in the form this field needs',
    ]);
  });

  it("the record's JSON Schema carries the preset's expression", () => {
    const manifest = manifestSchema.parse({ ...minimalManifest(), prospect: { zip: { format: 'us-zip' } } });
    const schema = recordJsonSchema(manifest) as {
      properties: { prospect: { properties: { zip: unknown } } };
    };
    expect(schema.properties.prospect.properties.zip).toMatchObject({ pattern: '^[0-9]{5}(-[0-9]{4})?$' });
  });

  it('a manifest may not give a format and a pattern, nor help without a pattern', () => {
    const result = manifestSchema.safeParse({
      ...minimalManifest(),
      prospect: {
        a: { format: 'us-zip', pattern: '^1$' },
        b: { patternHelp: 'words' },
        c: { format: 'nope' },
      },
    });
    expect(result.success ? [] : result.error.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'prospect.a.pattern',
      'prospect.b.patternHelp',
      'prospect.c.format',
    ]);
  });
});
