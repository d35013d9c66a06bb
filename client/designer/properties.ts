/**
 * The properties panel of the selected element, generated from its kind's editor description: one
 * control per property, by the property's `control`.
 */
import { field, h, section } from './dom.js';
import type { Draft, Element, InputGroup } from './state.js';

interface EditorProperty {
  key: string;
  label: string;
  group: string;
  control: string;
  unit?: string;
  choices?: readonly string[];
  bindable?: boolean;
  required?: boolean;
}
export interface Kind {
  type: string;
  label: string;
  summary: string;
  properties: EditorProperty[];
  defaults: Record<string, unknown>;
}

const GROUPS: InputGroup[] = ['prospect', 'rep', 'fields'];
const GROUP_NAMES: Record<InputGroup, string> = {
  prospect: 'Prospect',
  rep: 'Rep profile',
  fields: 'Rep field',
};

function get(el: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], el);
}

function set(el: Record<string, unknown>, key: string, value: unknown): void {
  const keys = key.split('.');
  let at = el;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  if (value === undefined || value === '') delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
}

export class Properties {
  readonly root = h('div', { class: 'd-properties' });

  constructor(
    private readonly draft: Draft,
    private readonly kinds: Kind[],
    private readonly files: () => string[],
  ) {}

  draw(): void {
    const names = this.draft.selection;
    const el = names.length === 1 ? this.draft.find(names[0]!) : undefined;
    if (!el) {
      this.root.replaceChildren(
        section(
          'Properties',
          h('p', {
            text: names.length > 1 ? `${names.length} elements selected.` : 'Select an element to edit it.',
          }),
        ),
      );
      return;
    }
    const kind = this.kinds.find((k) => k.type === el.type);
    const groups = new Map<string, HTMLElement[]>();
    for (const p of kind?.properties ?? []) {
      const list = groups.get(p.group) ?? [];
      list.push(this.control(el, p));
      groups.set(p.group, list);
    }
    const remove = h('button', {
      type: 'button',
      class: 'danger',
      text: `Delete ${el.name}`,
      onclick: () => {
        this.draft.change((m) => {
          const page = m.pages[el.pageIndex]!;
          page.elements = page.elements.filter((e) => e.name !== el.name);
        });
      },
    });
    this.root.replaceChildren(
      section(
        `Properties: ${kind?.label ?? el.type} ${el.name}`,
        ...[...groups].map(([group, controls]) =>
          h('fieldset', {}, h('legend', { text: group }), ...controls),
        ),
        remove,
      ),
    );
  }

  private commit(el: Element, key: string, value: unknown): void {
    this.draft.changeElements([el.name], (e) => set(e, key, value));
    if (key === 'name' && typeof value === 'string' && value) this.draft.select([value]);
  }

  private control(el: Element, p: EditorProperty): HTMLElement {
    const value = get(el, p.key);
    const label = `${p.label}${p.unit && p.unit !== '×' ? ` (${p.unit})` : ''}`;
    const onchange = (read: (t: HTMLInputElement) => unknown) => (e: Event) =>
      this.commit(el, p.key, read(e.target as HTMLInputElement));
    const select = (options: [string, string][], current: unknown) =>
      h(
        'select',
        { onchange: onchange((t) => t.value || undefined) },
        ...(p.required ? [] : [h('option', { value: '', text: '(none)' })]),
        ...options.map(([v, text]) => h('option', { value: v, text, selected: v === current })),
      );
    const m = this.draft.manifest;
    switch (p.control) {
      case 'template':
        return this.template(el, p, label, typeof value === 'string' ? value : '');
      case 'number':
      case 'length':
        return field(
          label,
          h('input', {
            type: 'number',
            step: 'any',
            value: typeof value === 'number' ? value : '',
            'data-key': p.key,
            onchange: onchange((t) => (t.value === '' ? undefined : Number(t.value))),
          }),
        );
      case 'boolean':
        return field(
          label,
          h('input', { type: 'checkbox', checked: value === true, onchange: onchange((t) => t.checked) }),
        );
      case 'choice':
        return field(
          label,
          select(
            (p.choices ?? []).map((c) => [c, c]),
            value,
          ),
        );
      case 'color':
        return field(
          label,
          select(
            Object.keys(m.colors).map((c) => [c, c]),
            value,
          ),
        );
      case 'font':
        return field(
          label,
          select(
            Object.keys(m.fonts).map((f) => [f, f]),
            value,
          ),
        );
      case 'field':
        return field(
          label,
          select(
            Object.entries(m.fields).map(([k, d]) => [k, d.label ?? k]),
            value,
          ),
        );
      case 'asset':
        return field(
          label,
          select(
            this.files().map((f) => [f, f]),
            value,
          ),
        );
      case 'input':
        return field(
          label,
          select(
            GROUPS.flatMap((g) =>
              Object.entries(m[g])
                .filter(([, d]) => d.type === 'image')
                .map(([k, d]): [string, string] => [`${g}.${k}`, `${GROUP_NAMES[g]}: ${d.label ?? k}`]),
            ),
            value,
          ),
        );
      case 'condition':
        return this.condition(
          el,
          label,
          value as { path?: string; equals?: unknown; exists?: boolean } | undefined,
        );
      default:
        return field(
          label,
          h('input', {
            type: 'text',
            value: typeof value === 'string' ? value : '',
            'data-key': p.key,
            onchange: onchange((t) => t.value),
          }),
        );
    }
  }

  /** Template text: typed Handlebars, an input picker that inserts a value, Bold and Italic. */
  private template(el: Element, p: EditorProperty, label: string, value: string): HTMLElement {
    const files = p.key === 'src' ? this.files() : [];
    const area =
      p.key === 'src'
        ? h('input', { type: 'text', value, list: 'd-files', 'data-key': p.key })
        : h('textarea', { rows: 3, 'data-key': p.key, text: value });
    area.addEventListener('change', () => this.commit(el, p.key, area.value));
    // Where the caret was when the box was left: insertions go there (at the end before it was used).
    let caret: [number, number] | null = null;
    area.addEventListener('blur', () => (caret = [area.selectionStart ?? 0, area.selectionEnd ?? 0]));
    const insert = (before: string, after = '') => {
      const v = area.value;
      const [start, end] =
        document.activeElement === area
          ? [area.selectionStart ?? v.length, area.selectionEnd ?? v.length]
          : (caret ?? [v.length, v.length]);
      area.value = v.slice(0, start) + before + v.slice(start, end) + after + v.slice(end);
      this.commit(el, p.key, area.value);
    };
    const m = this.draft.manifest;
    const picker = h(
      'select',
      {
        'aria-label': `Insert a value into ${p.label}`,
        onchange: (e) => {
          const t = e.target as HTMLSelectElement;
          if (t.value) insert(`{{${t.value}}}`);
        },
      },
      h('option', { value: '', text: 'Insert a value…' }),
      ...GROUPS.flatMap((g) =>
        Object.entries(m[g]).map(([k, d]) =>
          h('option', { value: `${g}.${k}`, text: `${GROUP_NAMES[g]}: ${d.label ?? k}` }),
        ),
      ),
      h('option', { value: 'piece.url', text: 'The piece’s tracked link' }),
      h('option', { value: 'piece.code', text: 'The piece’s response code' }),
    );
    const emphasis =
      el.type === 'text' && p.key === 'text'
        ? [
            h('button', { type: 'button', text: 'Bold', onclick: () => insert('**', '**') }),
            h('button', { type: 'button', text: 'Italic', onclick: () => insert('*', '*') }),
          ]
        : [];
    const list = files.length
      ? h('datalist', { id: 'd-files' }, ...files.map((f) => h('option', { value: f })))
      : null;
    const row = field(label, area);
    row.append(h('div', { class: 'd-inline' }, picker, ...emphasis), ...(list ? [list] : []));
    return row;
  }

  /** `when`, in words: show the element only when a record value is given, or equals something. */
  private condition(
    el: Element,
    label: string,
    value: { path?: string; equals?: unknown; exists?: boolean } | undefined,
  ): HTMLElement {
    const m = this.draft.manifest;
    const path = h(
      'select',
      { 'aria-label': `${label}: the value` },
      h('option', { value: '', text: 'always show' }),
      ...GROUPS.flatMap((g) =>
        Object.entries(m[g]).map(([k, d]) =>
          h('option', {
            value: `${g}.${k}`,
            text: `${GROUP_NAMES[g]}: ${d.label ?? k}`,
            selected: value?.path === `${g}.${k}`,
          }),
        ),
      ),
    );
    const equals = h('input', {
      type: 'text',
      'aria-label': `${label}: equals (empty: is given)`,
      placeholder: 'equals… (empty: is given)',
      value: typeof value?.equals === 'string' ? value.equals : '',
    });
    const commit = () =>
      this.commit(
        el,
        'when',
        path.value
          ? equals.value
            ? { path: path.value, equals: equals.value }
            : { path: path.value, exists: true }
          : undefined,
      );
    path.addEventListener('change', commit);
    equals.addEventListener('change', commit);
    return h(
      'div',
      { class: 'd-field', role: 'group', 'aria-label': label },
      h('span', { class: 'd-label', text: label }),
      path,
      equals,
    );
  }
}
