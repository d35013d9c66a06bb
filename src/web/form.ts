import { z } from 'zod';
import type { Problem } from '../errors.js';
import type { RenderRequest } from '../service/render.js';
import { type InputDef, type Manifest, TODAY } from '../model/manifest.js';

/**
 * The generated form: one control per template input, named `<scope>.<key>` (`fields.message`),
 * and the way back from posted values (a form post or the preview script's JSON) to a render request.
 */

const SCOPES = ['rep', 'prospect', 'fields'] as const;
type Scope = (typeof SCOPES)[number];

export interface FieldView {
  name: string;
  id: string;
  label: string;
  help: string | undefined;
  required: boolean;
  control: 'input' | 'textarea' | 'select' | 'checkbox' | 'image';
  inputType: string;
  choices: { value: string; selected: boolean }[];
  value: string;
  checked: boolean;
  maxLength: number | undefined;
  error: string | undefined;
}

const INPUT_TYPES: Partial<Record<InputDef['type'], string>> = {
  email: 'email',
  phone: 'tel',
  url: 'url',
  date: 'date',
};

function control(def: InputDef): FieldView['control'] {
  switch (def.type) {
    case 'multiline':
      return 'textarea';
    case 'choice':
      return 'select';
    case 'boolean':
      return 'checkbox';
    case 'image':
      return 'image';
    default:
      return 'input';
  }
}

/** The controls of one scope, with values (posted, else the template's defaults) and errors. */
export function fieldViews(
  manifest: Manifest,
  scope: Scope,
  values: Record<string, string>,
  errors: Map<string, string>,
  defaults: Record<string, unknown> = {},
): FieldView[] {
  return Object.entries(manifest[scope]).map(([key, def]) => {
    const name = `${scope}.${key}`;
    // A date that defaults to the day it is printed shows blank: blank is what asks for that day.
    const fallback = defaults[key] ?? (def.default === TODAY ? undefined : def.default) ?? '';
    const value = values[name] ?? (typeof fallback === 'string' ? fallback : '');
    return {
      name,
      id: `in-${scope}-${key}`,
      label: def.label ?? key,
      help: def.help,
      required: def.required,
      control: control(def),
      inputType: INPUT_TYPES[def.type] ?? 'text',
      choices: (def.choices ?? []).map((choice) => ({ value: choice, selected: choice === value })),
      value,
      checked: name in values ? values[name] === 'true' : fallback === true,
      maxLength: def.maxLength,
      error: errors.get(name),
    };
  });
}

/** Posted values: `<scope>.<key>` to a string, as the form and the preview script send them. */
export const formValuesSchema = z.record(
  z.string().regex(/^(rep|prospect|fields)\.[A-Za-z][A-Za-z0-9_]{0,63}$/, 'not a field of this form'),
  z.string().max(10_000),
);
export type FormValues = z.infer<typeof formValuesSchema>;

/**
 * The render request for posted values. Booleans are checkboxes ("true" when ticked, absent when
 * not); `rep.*` values are passed on only if sent, and the render service refuses them from reps.
 */
export function toRenderRequest(
  manifest: Manifest,
  templateId: string,
  version: number,
  values: FormValues,
): RenderRequest & { rep?: Record<string, unknown> } {
  const parts: Record<Scope, Record<string, unknown>> = { rep: {}, prospect: {}, fields: {} };
  for (const [name, value] of Object.entries(values)) {
    const [scope, key] = name.split('.') as [Scope, string];
    parts[scope][key] = manifest[scope][key]?.type === 'boolean' ? value === 'true' : value;
  }
  for (const scope of SCOPES) {
    for (const [key, def] of Object.entries(manifest[scope])) {
      if (def.type === 'boolean' && !(key in parts[scope]) && scope !== 'rep') parts[scope][key] = false;
    }
  }
  const rep = Object.keys(parts.rep).length > 0 ? { rep: parts.rep } : {};
  return { templateId, version, prospect: parts.prospect, fields: parts.fields, ...rep };
}

/** Problems by the form control they belong to, and the rest (elements of the template). */
export function problemsByField(problems: Problem[]): { byField: Map<string, string>; other: Problem[] } {
  const byField = new Map<string, string>();
  const other: Problem[] = [];
  for (const p of problems) {
    if (/^(rep|prospect|fields)\.[A-Za-z]/.test(p.path)) {
      const name = p.path.split(/[.[]/).slice(0, 2).join('.');
      byField.set(name, byField.has(name) ? `${byField.get(name)}; ${p.message}` : p.message);
    } else other.push(p);
  }
  return { byField, other };
}
