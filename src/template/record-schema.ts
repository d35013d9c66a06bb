import { z } from 'zod';
import { type InputDef, type Manifest, MAX_STRING_LENGTH, TODAY } from '../model/manifest.js';
import { inputPattern, patternWords } from '../model/patterns.js';
import type { PieceRecord, RecordValue } from '../model/record.js';

/**
 * Builds the zod schema of the record a template accepts, `{ rep, prospect, fields }`, from its
 * declared inputs. Objects are strict: a key the template does not declare is an attempt to change
 * something the template does not let you change, and is rejected by name.
 */

/** Control characters (tabs and line breaks too) and our emphasis markers: never legitimate in a record. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SINGLE_LINE_FORBIDDEN = /[\u0000-\u001F\u007F-\u009F\uE000\uE001]/u;
/** The same, less the line feed, for multiline inputs (CR LF and CR are normalized to LF first). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const MULTILINE_FORBIDDEN = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\uE000\uE001]/u;
/** A phone number as people write them: digits, spaces, ( ) . - /, an optional + and extension. */
export const PHONE = /^\+?[0-9(][0-9 ().\-/]{3,28}[0-9](\s*(x|ext\.?)\s*[0-9]{1,6})?$/i;

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'required' : `expected ${what}`;

function stringRules(def: InputDef, label: string, multiline: boolean) {
  const max = def.maxLength ?? MAX_STRING_LENGTH;
  let rules = z
    .string()
    // abort: a template's own pattern never runs on an over-long value (no pathological backtracking).
    .max(max, { message: `longer than ${max} characters`, abort: true })
    .refine((v) => !(multiline ? MULTILINE_FORBIDDEN : SINGLE_LINE_FORBIDDEN).test(v), {
      message: multiline ? 'contains a control character' : 'contains a line break or control character',
    });
  const pattern = inputPattern(def);
  // The message says in words what the value must look like: people never see the expression.
  if (pattern !== undefined) rules = rules.regex(new RegExp(pattern, 'u'), `${label}: ${patternWords(def)}`);
  return z
    .string({ error: required('text') })
    .transform((v) => (multiline ? v.replace(/\r\n?/g, '\n') : v).trim())
    .pipe(rules);
}

function valueSchema(def: InputDef, key: string): z.ZodType<RecordValue> {
  const label = def.label ?? key;
  switch (def.type) {
    case 'text':
    case 'image':
      return stringRules(def, label, false);
    case 'multiline':
      return stringRules(def, label, true);
    case 'email':
      return stringRules(def, label, false).pipe(z.email('not an email address'));
    case 'phone':
      return stringRules(def, label, false).pipe(z.string().regex(PHONE, 'not a phone number'));
    case 'url':
      return stringRules(def, label, false).pipe(
        z
          .url({ protocol: /^https?$/, error: 'not an http(s) URL' })
          .refine((v) => !/\s/.test(v), 'not an http(s) URL'),
      );
    case 'date':
      return stringRules(def, label, false).pipe(z.iso.date('not a date (YYYY-MM-DD)'));
    case 'choice': {
      const choices = def.choices ?? [];
      return z
        .string({ error: required('one of the choices') })
        .transform((v) => v.trim())
        .refine((v) => choices.includes(v), {
          message: `must be one of: ${choices.join(' | ')}`,
          params: { rule: 'choice' },
        });
    }
    case 'boolean':
      return z.boolean({ error: required('true or false') });
  }
}

/** A blank string means "not given", as a blank CSV cell or an empty form input does. */
const blankToUndefined = (v: unknown) =>
  (typeof v === 'string' && v.trim() === '') || v === null ? undefined : v;

function inputSchema(def: InputDef, key: string): z.ZodType<RecordValue | undefined> {
  const inner = valueSchema(def, key);
  // The day of the run is filled in before the record is parsed (validateRecord): no default here.
  if (def.default === TODAY) return z.preprocess(blankToUndefined, inner.optional());
  if (def.default !== undefined) return z.preprocess(blankToUndefined, inner.default(def.default as never));
  return z.preprocess(blankToUndefined, def.required ? inner : inner.optional());
}

function groupSchema(inputs: Record<string, InputDef>) {
  const shape: Record<string, z.ZodType<RecordValue | undefined>> = {};
  for (const [key, def] of Object.entries(inputs)) shape[key] = inputSchema(def, key);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'expected an object'),
  });
}

export function buildRecordSchema(manifest: Manifest): z.ZodType<PieceRecord> {
  return z.strictObject({
    // prefault, not default: an omitted group is parsed as {}, so its required inputs and defaults apply.
    rep: groupSchema(manifest.rep).prefault({}),
    prospect: groupSchema(manifest.prospect).prefault({}),
    fields: groupSchema(manifest.fields).prefault({}),
  }) as unknown as z.ZodType<PieceRecord>;
}

/**
 * The JSON Schema (draft 2020-12) of the record, for `platen schema`, the API and form builders.
 * Generated from the manifest rather than the zod schema so types, patterns and enums read cleanly.
 */
export function recordJsonSchema(manifest: Manifest): Record<string, unknown> {
  const group = (inputs: Record<string, InputDef>) => ({
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(inputs).map(([k, def]) => [k, inputJsonSchema(def)])),
    required: Object.entries(inputs)
      .filter(([, def]) => def.required && def.default === undefined)
      .map(([k]) => k),
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `Record for ${manifest.name}`,
    type: 'object',
    additionalProperties: false,
    properties: {
      rep: group(manifest.rep),
      prospect: group(manifest.prospect),
      fields: group(manifest.fields),
    },
    required: ['rep', 'prospect', 'fields'].filter((g) =>
      Object.values(manifest[g as 'rep' | 'prospect' | 'fields']).some(
        (d) => d.required && d.default === undefined,
      ),
    ),
  };
}

const JSON_FORMATS: Partial<Record<InputDef['type'], string>> = {
  email: 'email',
  url: 'uri',
  date: 'date',
};

function inputJsonSchema(def: InputDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (def.label) out.title = def.label;
  if (def.help) out.description = def.help;
  if (def.type === 'boolean') out.type = 'boolean';
  else {
    out.type = 'string';
    if (def.type === 'choice') out.enum = def.choices;
    else out.maxLength = def.maxLength ?? MAX_STRING_LENGTH;
    const pattern = inputPattern(def);
    if (pattern !== undefined) out.pattern = pattern;
    else if (def.type === 'phone') out.pattern = PHONE.source;
    const format = JSON_FORMATS[def.type];
    if (format) out.format = format;
  }
  if (def.default === TODAY) out['x-platen-default'] = TODAY;
  else if (def.default !== undefined) out.default = def.default;
  out['x-platen-type'] = def.type;
  return out;
}
