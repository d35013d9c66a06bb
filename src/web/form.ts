import { z } from 'zod';
import type { Problem } from '../errors.js';
import type { RenderRequest } from '../service/render.js';
import { type InputDef, isoDay, type Manifest, TODAY } from '../model/manifest.js';
import { patternPreset } from '../model/patterns.js';
import { plainWords } from '../template/design-problems.js';

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
  /** Every problem of the field, in words, without its label (it stands beside the label). */
  errors: string[];
  /** The pages that show it, space-separated: the preview turns to the first while it is edited. */
  pages: string;
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

/** The controls of one scope, with values (posted, else the template's defaults) and problems. */
export function fieldViews(
  manifest: Manifest,
  scope: Scope,
  values: Record<string, string>,
  problems: readonly PageProblem[],
  defaults: Record<string, unknown> = {},
): FieldView[] {
  const pages = inputPages(manifest);
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
      errors: problems.filter((p) => p.field === name).map((p) => p.text),
      pages: (pages.get(name) ?? []).join(' '),
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

/** A problem as a page shows it to people: no path, rule code or regular expression. */
export interface PageProblem {
  /** The form control it is about (`prospect.id`), if any. */
  field?: string;
  /** What it says, led by the label of what it is about: "Prospect ID: letters, digits…". */
  message: string;
  /** The same without the label, for beside the field. */
  text: string;
}

/** The form control a record path is about: `prospect.id` for `prospect.id` or `prospect.id[0]`. */
function controlOf(path: string): string | undefined {
  return /^(?:rep|prospect|fields)\.[A-Za-z][A-Za-z0-9_]*/.exec(path)?.[0];
}

/** An input's label, by its control name. */
function labelOf(manifest: Manifest, name: string): string | undefined {
  const [scope, key] = name.split('.') as [Scope, string];
  const def = Object.hasOwn(manifest[scope], key) ? manifest[scope][key] : undefined;
  return def ? (def.label ?? key) : undefined;
}

/**
 * Problems of a piece in words, one per problem (a field with two problems has two). A problem about
 * an input is led by its label; one about an element of the template, by the labels of the inputs it
 * shows (what the rep can change), else by "The piece".
 */
export function pageProblems(manifest: Manifest, problems: readonly Problem[]): PageProblem[] {
  const shows = elementInputs(manifest);
  return problems.map((problem) => {
    let text = plainWords(manifest, problem.message);
    const field = controlOf(problem.path);
    const element = /^elements\.(.+)$/.exec(problem.path)?.[1];
    const label = field
      ? labelOf(manifest, field)
      : element !== undefined
        ? shows
            .find((e) => e.element === element)
            ?.inputs.map((name) => labelOf(manifest, name))
            .join(', ')
        : undefined;
    // The record schema leads a pattern's words with the label already.
    if (label && text.startsWith(`${label}: `)) text = text.slice(label.length + 2);
    return {
      ...(field && labelOf(manifest, field) ? { field } : {}),
      message: `${label || 'The piece'}: ${text}`,
      text: text.charAt(0).toUpperCase() + text.slice(1),
    };
  });
}

/** What each element of the template shows: its page (from 1) and the inputs it prints, by control name. */
export function elementInputs(manifest: Manifest): { element: string; page: number; inputs: string[] }[] {
  return manifest.pages.flatMap((page, i) =>
    page.elements.map((el) => {
      const inputs = new Set<string>();
      const named = el as { field?: unknown; input?: unknown };
      if (typeof named.field === 'string') inputs.add(`fields.${named.field}`);
      if (typeof named.input === 'string') inputs.add(named.input);
      for (const [name] of JSON.stringify(el).matchAll(/\b(?:rep|prospect|fields)\.[A-Za-z][A-Za-z0-9_]*/g)) {
        if (labelOf(manifest, name) !== undefined) inputs.add(name);
      }
      return { element: el.name ?? '', page: i + 1, inputs: [...inputs] };
    }),
  );
}

/** The pages each input is shown on, in order. */
function inputPages(manifest: Manifest): Map<string, number[]> {
  const pages = new Map<string, number[]>();
  for (const { page, inputs } of elementInputs(manifest)) {
    for (const name of inputs) {
      const list = pages.get(name) ?? [];
      if (!list.includes(page)) list.push(page);
      pages.set(name, list);
    }
  }
  return pages;
}

/**
 * What an empty input shows in the preview until the rep types: its label, or a value of its kind
 * that its rules accept (a format's example, the first choice), never someone else's details.
 */
function placeholder(def: InputDef, key: string): string | undefined {
  if (def.format !== undefined) return patternPreset(def.format).example;
  if (def.pattern !== undefined) return undefined;
  switch (def.type) {
    case 'text':
    case 'multiline':
      return (def.label ?? key).slice(0, def.maxLength);
    case 'email':
      return 'name@example.com';
    case 'phone':
      return '(555) 555-0100';
    case 'url':
      return 'https://example.com';
    case 'date':
      return isoDay(new Date());
    case 'choice':
      return def.choices?.[0];
    case 'boolean':
    case 'image':
      return undefined;
  }
}

/**
 * Values for a preview: what the rep typed, less what `refused` names, and placeholders for the
 * required prospect details and content left empty or refused (optional ones print nothing when
 * empty, and so show nothing).
 */
export function previewValues(
  manifest: Manifest,
  values: FormValues,
  refused: readonly Problem[] = [],
): FormValues {
  const out = { ...values };
  for (const problem of refused) {
    const name = controlOf(problem.path);
    if (name !== undefined) delete out[name];
  }
  for (const scope of ['prospect', 'fields'] as const) {
    for (const [key, def] of Object.entries(manifest[scope])) {
      const name = `${scope}.${key}`;
      if (!def.required || (out[name] ?? '').trim() !== '') continue;
      const value = placeholder(def, key);
      if (value !== undefined) out[name] = value;
    }
  }
  return out;
}
