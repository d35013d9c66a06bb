import { KINDS, kindOf } from '../elements/registry.js';
import type { Problem } from '../errors.js';
import type { ElementType } from '../model/kinds.js';

/**
 * A template problem as a designer shows it: the element (by its name), the page (by its name) and the
 * input (by its label, else its key) it is about, and a message for people, which names no JSON path
 * and shows no regular expression. `path` and `rule` stay as they were, for programs.
 */
export interface DesignProblem extends Problem {
  element?: string;
  page?: string;
  input?: string;
}

/** Input keys as people read them. */
export const INPUT_KEYS: Record<string, string> = {
  type: 'type',
  label: 'label',
  help: 'help',
  required: 'required',
  default: 'default value',
  maxLength: 'maximum length',
  pattern: 'custom pattern',
  patternHelp: 'pattern description',
  format: 'format',
  choices: 'choices',
  minWidth: 'minimum width',
  minHeight: 'minimum height',
};

/** Top-level manifest keys as people read them. */
const MANIFEST_KEYS: Record<string, string> = {
  'template.json': 'The template',
  id: 'Template id',
  name: 'Template name',
  kind: 'Kind of piece',
  page: 'Page setup',
  fonts: 'Fonts',
  defaultFont: 'Default font',
  fallbackFonts: 'Fallback fonts',
  lang: 'Language',
  hyphenate: 'Hyphenation',
  colors: 'Palette',
  output: 'Output',
  'output.landingUrl': 'Landing page address',
  'output.fileName': 'File name of each piece',
  'output.standard': 'Print standard',
  samples: 'Samples',
  pages: 'Pages',
};

/** Where a regular expression shows through a message (zod's and the record schema's wordings). */
const SHOWS_PATTERN = /(does not match|must match pattern|match(es)? the pattern)\s+\S+/gi;
/** A JSON path inside a message: `pages[1].elements[5].text`, `samples[0].record.prospect.zip`. */
const PATH_IN_MESSAGE = /\b(?:pages|samples)\[\d+\](?:\.[A-Za-z_$][\w$]*|\[\d+\])*/g;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function tokens(path: string): (string | number)[] {
  return [...path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]!));
}

/** What a path is about, with the words that name it. */
interface Place {
  element?: string;
  page?: string;
  input?: string;
  /** The place in words, e.g. `"headline" (Size)` or `Sample "Pat Lee", ZIP code`. */
  words: string;
  /** A name the message may already show, so it is not repeated before it. */
  named?: string;
  /** The sample record it is found in, in words. */
  sample?: string;
}

/** An element property's label in the designer (its kind's editor description), else its key. */
export function propertyLabel(type: unknown, key: string | number | undefined): string | undefined {
  if (typeof key !== 'string') return undefined;
  const kind = typeof type === 'string' && Object.hasOwn(KINDS, type) ? kindOf(type as ElementType) : null;
  return kind?.editor.properties.find((p) => p.key === key || p.key.startsWith(`${key}.`))?.label ?? key;
}

function inputPlace(manifest: Json, scope: string, key: string, rest: (string | number)[]): Place {
  const def = obj(obj(manifest[scope])?.[key]);
  const input = str(def?.label) ?? key;
  const property = typeof rest[0] === 'string' ? (INPUT_KEYS[rest[0]] ?? rest[0]) : undefined;
  return { input, named: input, words: property ? `"${input}" (${property})` : `"${input}"` };
}

function elementPlace(manifest: Json, p: number, e: number, rest: (string | number)[]): Place {
  const page = obj((manifest.pages as unknown[] | undefined)?.[p]);
  const el = obj((page?.elements as unknown[] | undefined)?.[e]);
  const pageName = str(page?.name);
  const name = str(el?.name);
  const who = name ? `"${name}"` : `element ${e + 1} on ${pageName ? `page "${pageName}"` : `page ${p + 1}`}`;
  const property = rest.length > 0 && rest[0] !== 'name' ? propertyLabel(el?.type, rest[0]) : undefined;
  return {
    ...(name ? { element: name, named: name } : {}),
    ...(pageName ? { page: pageName } : {}),
    words: property ? `${who} (${property})` : who,
  };
}

/** The page holding an element, by the element's name. */
function pageOf(manifest: Json, element: string): string | undefined {
  for (const page of (manifest.pages as unknown[] | undefined) ?? []) {
    const elements = (obj(page)?.elements as unknown[] | undefined) ?? [];
    if (elements.some((el) => obj(el)?.name === element)) return str(obj(page)?.name);
  }
  return undefined;
}

function place(manifest: Json, path: string): Place {
  const t = tokens(path);
  const [head, a, b, c, ...rest] = t;
  if (head === 'pages' && typeof a === 'number') {
    if (b === 'elements' && typeof c === 'number') return elementPlace(manifest, a, c, rest);
    const name = str(obj((manifest.pages as unknown[] | undefined)?.[a])?.name);
    return { ...(name ? { page: name } : {}), words: name ? `Page "${name}"` : `Page ${a + 1}` };
  }
  if ((head === 'rep' || head === 'prospect' || head === 'fields') && typeof a === 'string') {
    return inputPlace(manifest, head, a, t.slice(2));
  }
  if (head === 'samples' && typeof a === 'number') {
    const sampleName = str(obj((manifest.samples as unknown[] | undefined)?.[a])?.name);
    const sample = sampleName ? `Sample "${sampleName}"` : `Sample ${a + 1}`;
    if (
      b === 'record' &&
      (c === 'rep' || c === 'prospect' || c === 'fields') &&
      typeof rest[0] === 'string'
    ) {
      return { ...inputPlace(manifest, c, rest[0], rest.slice(1)), sample };
    }
    if (b === 'elements' && typeof c === 'string') {
      const page = pageOf(manifest, c);
      return { element: c, named: c, ...(page ? { page } : {}), words: `"${c}"`, sample };
    }
    return { words: sample };
  }
  if (head === 'colors' && typeof a === 'string') return { words: `Colour "${a}"`, named: a };
  if (head === 'fonts' && typeof a === 'string') {
    return { words: typeof b === 'string' ? `Font "${a}" (${b})` : `Font "${a}"`, named: a };
  }
  const key = t.slice(0, 2).join('.');
  return { words: MANIFEST_KEYS[key] ?? MANIFEST_KEYS[String(head)] ?? (path || 'The template') };
}

/**
 * A message with no regular expression and no JSON path left in it: the designer's problems and the
 * rep's form both say problems this way.
 */
export function plainWords(manifest: unknown, message: string): string {
  const m = obj(manifest) ?? {};
  return message
    .replace(SHOWS_PATTERN, 'is not in the form this field needs')
    .replace(PATH_IN_MESSAGE, (path) => {
      const at = place(m, path);
      return at.sample ? `${at.sample}, ${at.words}` : at.words;
    });
}

/**
 * Template problems in words: `manifest` is the template.json as parsed (valid or not), `problems`
 * what validating it found. Every message leads with what it is about, unless it already names it.
 */
export function designProblems(manifest: unknown, problems: readonly Problem[]): DesignProblem[] {
  const m = obj(manifest) ?? {};
  return problems.map((problem) => {
    const where = place(m, problem.path);
    const text = plainWords(m, problem.message);
    const named = where.named !== undefined && text.includes(where.named);
    const message = named ? text : `${where.words}: ${text}`;
    return {
      path: problem.path,
      rule: problem.rule,
      message: where.sample ? `${where.sample}: ${message}` : message,
      ...(where.element !== undefined ? { element: where.element } : {}),
      ...(where.page !== undefined ? { page: where.page } : {}),
      ...(where.input !== undefined ? { input: where.input } : {}),
    };
  });
}
