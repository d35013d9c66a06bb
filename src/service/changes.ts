import { isDeepStrictEqual } from 'node:util';
import type { ElementDef } from '../model/kinds.js';
import type { InputDef, Manifest } from '../model/manifest.js';
import { INPUT_KEYS, propertyLabel } from '../template/design-problems.js';

/** One difference between two versions of a template, in words. */
export interface Change {
  what: 'element' | 'input' | 'page' | 'palette' | 'font' | 'sample' | 'setting';
  name: string;
  change: 'added' | 'removed' | 'moved' | 'resized' | 'restyled' | 'changed';
  detail: string;
}

/** An element's keys that say what it shows rather than how it looks. */
const CONTENT_KEYS = new Set([
  'text',
  'field',
  'src',
  'input',
  'fallback',
  'content',
  'lines',
  'when',
  'alt',
  'role',
]);
/** Settings of the whole template, with their names for people. */
const SETTINGS: [keyof Manifest, string][] = [
  ['name', 'name'],
  ['description', 'description'],
  ['summary', 'summary for reps'],
  ['kind', 'kind of piece'],
  ['productLine', 'product line'],
  ['page', 'page size and bleed'],
  ['defaultFont', 'default font'],
  ['fallbackFonts', 'fallback fonts'],
  ['lang', 'language'],
  ['hyphenate', 'hyphenation'],
  ['output', 'output'],
];

const num = (v: number): string => String(Math.round(v * 100) / 100);
const shown = (v: unknown): string =>
  typeof v === 'string' ? `"${v}"` : v === undefined ? 'nothing' : JSON.stringify(v);

/** Changes from `before` (null: there is no earlier version, so everything is new) to `after`. */
export function describeChanges(before: Manifest | null, after: Manifest): Change[] {
  const changes: Change[] = [];
  const was =
    before ??
    ({
      pages: [],
      prospect: {},
      rep: {},
      fields: {},
      colors: {},
      fonts: {},
      samples: [],
    } as unknown as Manifest);
  keyed(
    was.pages.map((p) => [p.name, p] as const),
    after.pages.map((p) => [p.name, p] as const),
    (name, change) => changes.push({ what: 'page', name, change, detail: `page ${change}` }),
  );
  const elements = (m: Manifest) => m.pages.flatMap((p) => p.elements.map((e) => [e.name, e] as const));
  keyed(
    elements(was),
    elements(after),
    (name, change) => changes.push({ what: 'element', name, change, detail: `element ${change}` }),
    (name, a, b) => changes.push(...elementChanges(name, a, b)),
  );
  for (const scope of ['prospect', 'rep', 'fields'] as const) {
    keyed(
      Object.entries(was[scope]),
      Object.entries(after[scope]),
      (key, change, def) =>
        changes.push({ what: 'input', name: def.label ?? key, change, detail: `input ${change}` }),
      (key, a, b) => {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
          (k) => !isDeepStrictEqual(a[k as keyof InputDef], b[k as keyof InputDef]),
        ) as (keyof InputDef)[];
        if (keys.length === 0) return;
        changes.push({
          what: 'input',
          name: b.label ?? key,
          change: 'changed',
          detail: keys.map((k) => `${INPUT_KEYS[k] ?? k} from ${shown(a[k])} to ${shown(b[k])}`).join('; '),
        });
      },
    );
  }
  keyed(
    Object.entries(was.colors),
    Object.entries(after.colors),
    (name, change) => changes.push({ what: 'palette', name, change, detail: `colour ${change}` }),
    (name, a, b) => {
      if (!isDeepStrictEqual(a, b))
        changes.push({ what: 'palette', name, change: 'changed', detail: `from ${shown(a)} to ${shown(b)}` });
    },
  );
  keyed(
    Object.entries(was.fonts),
    Object.entries(after.fonts),
    (name, change) => changes.push({ what: 'font', name, change, detail: `font ${change}` }),
    (name, a, b) => {
      if (!isDeepStrictEqual(a, b))
        changes.push({ what: 'font', name, change: 'changed', detail: 'its files changed' });
    },
  );
  keyed(
    was.samples.map((s) => [s.name, s] as const),
    after.samples.map((s) => [s.name, s] as const),
    (name, change) => changes.push({ what: 'sample', name, change, detail: `sample ${change}` }),
    (name, a, b) => {
      if (!isDeepStrictEqual(a, b))
        changes.push({ what: 'sample', name, change: 'changed', detail: 'its record changed' });
    },
  );
  if (before) {
    for (const [key, label] of SETTINGS) {
      if (!isDeepStrictEqual(before[key], after[key])) {
        changes.push({
          what: 'setting',
          name: label,
          change: 'changed',
          detail: `from ${shown(before[key])} to ${shown(after[key])}`,
        });
      }
    }
  }
  return changes;
}

/** Calls back for what was added, removed, and (with both) kept, matching by key. */
function keyed<T>(
  before: readonly (readonly [string, T])[],
  after: readonly (readonly [string, T])[],
  gone: (key: string, change: 'added' | 'removed', value: T) => void,
  kept?: (key: string, before: T, after: T) => void,
): void {
  const old = new Map(before);
  const now = new Map(after);
  for (const [key, value] of after) {
    const was = old.get(key);
    if (was === undefined) gone(key, 'added', value);
    else kept?.(key, was, value);
  }
  for (const [key, value] of before) if (!now.has(key)) gone(key, 'removed', value);
}

/** How a kept element changed: moved, resized, restyled (how it looks), changed (what it shows). */
function elementChanges(name: string, a: ElementDef, b: ElementDef): Change[] {
  const changes: Change[] = [];
  if (a.x !== b.x || a.y !== b.y) {
    changes.push({
      what: 'element',
      name,
      change: 'moved',
      detail: `from ${num(a.x)}, ${num(a.y)} to ${num(b.x)}, ${num(b.y)} pt`,
    });
  }
  if (a.w !== b.w || a.h !== b.h) {
    changes.push({
      what: 'element',
      name,
      change: 'resized',
      detail: `from ${num(a.w)} × ${num(a.h)} to ${num(b.w)} × ${num(b.h)} pt`,
    });
  }
  const rest = (content: boolean) =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (k) =>
        !['name', 'x', 'y', 'w', 'h'].includes(k) &&
        CONTENT_KEYS.has(k) === content &&
        !isDeepStrictEqual(a[k as keyof ElementDef], b[k as keyof ElementDef]),
    );
  const describe = (keys: string[]) =>
    keys
      .map(
        (k) =>
          `${propertyLabel(b.type, k)} from ${shown(a[k as keyof ElementDef])} to ${shown(b[k as keyof ElementDef])}`,
      )
      .join('; ');
  const style = rest(false);
  if (style.length > 0) changes.push({ what: 'element', name, change: 'restyled', detail: describe(style) });
  const content = rest(true);
  if (content.length > 0)
    changes.push({ what: 'element', name, change: 'changed', detail: describe(content) });
  return changes;
}
