/** Prospect columns, rep-profile values and rep fields: each with its type, label, rules and default. */
import { field, h, section } from './dom.js';
import type { Draft, InputDef, InputGroup } from './state.js';

/** A named format an input's values must have, described in words (the manifest's `format`). */
export interface PatternPreset {
  id: string;
  label: string;
  description: string;
}

const TYPES = ['text', 'multiline', 'email', 'phone', 'url', 'choice', 'boolean', 'date', 'image'];
const GROUPS: [InputGroup, string][] = [
  ['prospect', 'Prospect columns'],
  ['rep', 'Rep profile values'],
  ['fields', 'Rep fields (what reps fill in)'],
];

export class Inputs {
  readonly root = h('div', { class: 'd-inputs' });

  constructor(
    private readonly draft: Draft,
    private readonly presets: PatternPreset[],
  ) {}

  draw(): void {
    const m = this.draft.manifest;
    const group = h(
      'select',
      { id: 'd-new-input-group' },
      ...GROUPS.map(([g, t]) => h('option', { value: g, text: t })),
    );
    const key = h('input', { id: 'd-new-input-key', type: 'text', pattern: '[A-Za-z][A-Za-z0-9_]*' });
    const add = h('button', {
      type: 'button',
      text: 'Add input',
      onclick: () => {
        const k = key.value.trim();
        if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k)) {
          key.setCustomValidity('A single word: letters, digits and _, starting with a letter.');
          key.reportValidity();
          return;
        }
        this.draft.change((mm) => {
          mm[group.value as InputGroup][k] ??= { type: 'text', label: k };
        });
      },
    });
    key.addEventListener('input', () => key.setCustomValidity(''));
    this.root.replaceChildren(
      section(
        'Inputs',
        h(
          'div',
          { class: 'd-inline' },
          h('label', { for: 'd-new-input-group', text: 'Kind' }),
          group,
          h('label', { for: 'd-new-input-key', text: 'Key' }),
          key,
          add,
        ),
        ...GROUPS.map(([g, title]) =>
          h(
            'fieldset',
            {},
            h('legend', { text: title }),
            ...Object.entries(m[g]).map(([k, def]) => this.input(g, k, def)),
          ),
        ),
      ),
    );
  }

  private input(group: InputGroup, key: string, def: InputDef): HTMLElement {
    const name = `${def.label ?? key}`;
    const set = (prop: keyof InputDef, value: unknown) =>
      this.draft.change((m) => {
        const d = m[group][key] as Record<string, unknown>;
        if (value === undefined || value === '') delete d[prop];
        else d[prop] = value;
      });
    const text = (prop: keyof InputDef, label: string) =>
      field(
        `${name}: ${label}`,
        h('input', {
          type: 'text',
          value: typeof def[prop] === 'string' ? (def[prop] as string) : '',
          onchange: (e) => set(prop, (e.target as HTMLInputElement).value),
        }),
      );
    const preset = this.presets.find((p) => p.id === def.format);
    return h(
      'div',
      { class: 'd-input', 'data-input': `${group}.${key}`, 'data-input-label': def.label ?? key },
      h('h3', { text: `${name} (${group}.${key})` }),
      field(
        `${name}: type`,
        h(
          'select',
          { onchange: (e) => set('type', (e.target as HTMLSelectElement).value) },
          ...TYPES.map((t) => h('option', { value: t, text: t, selected: (def.type ?? 'text') === t })),
        ),
      ),
      text('label', 'label'),
      text('help', 'help'),
      field(
        `${name}: required`,
        h('input', {
          type: 'checkbox',
          checked: def.required === true,
          onchange: (e) => set('required', (e.target as HTMLInputElement).checked),
        }),
      ),
      text('default', 'default'),
      field(
        `${name}: maximum length`,
        h('input', {
          type: 'number',
          min: 1,
          value: def.maxLength ?? '',
          onchange: (e) => {
            const v = (e.target as HTMLInputElement).value;
            set('maxLength', v === '' ? undefined : Number(v));
          },
        }),
      ),
      def.type === 'choice'
        ? field(
            `${name}: choices`,
            h('input', {
              type: 'text',
              value: (def.choices ?? []).join(', '),
              onchange: (e) =>
                set(
                  'choices',
                  (e.target as HTMLInputElement).value
                    .split(',')
                    .map((c) => c.trim())
                    .filter(Boolean),
                ),
            }),
            'Separated by commas.',
          )
        : null,
      field(
        `${name}: format`,
        h(
          'select',
          {
            // A named format replaces a custom pattern: an input takes one or the other.
            onchange: (e) =>
              this.draft.change((m) => {
                const d = m[group][key] as Record<string, unknown>;
                const id = (e.target as HTMLSelectElement).value;
                if (id === '') delete d.format;
                else {
                  d.format = id;
                  delete d.pattern;
                  delete d.patternHelp;
                }
              }),
          },
          h('option', { value: '', text: def.pattern && !preset ? 'a custom format' : 'any' }),
          ...this.presets.map((p) =>
            h('option', { value: p.id, text: `${p.label}: ${p.description}`, selected: p === preset }),
          ),
        ),
      ),
      h('button', {
        type: 'button',
        class: 'danger',
        text: `Remove ${name}`,
        onclick: () =>
          this.draft.change((m) => {
            delete m[group][key];
          }),
      }),
    );
  }
}
