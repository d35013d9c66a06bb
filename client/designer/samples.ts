/** Sample records in an editable table: one row per sample, one column per input; preview any. */
import { h, section } from './dom.js';
import type { Draft, InputGroup } from './state.js';

const GROUPS: InputGroup[] = ['prospect', 'rep', 'fields'];

export class Samples {
  readonly root = h('div', { class: 'd-samples' });
  /** The sample the canvas previews. */
  current = 0;

  constructor(
    private readonly draft: Draft,
    private readonly previewed: () => void,
  ) {}

  draw(): void {
    const m = this.draft.manifest;
    if (this.current >= m.samples.length) this.current = 0;
    const columns = GROUPS.flatMap((g) =>
      Object.entries(m[g]).map(([k, d]) => ({ g, k, label: d.label ?? k })),
    );
    const rows = m.samples.map((sample, i) =>
      h(
        'tr',
        {},
        h(
          'th',
          { scope: 'row' },
          h('input', {
            type: 'text',
            value: sample.name,
            'aria-label': `Sample ${i + 1} name`,
            onchange: (e) =>
              this.draft.change((mm) => {
                mm.samples[i]!.name = (e.target as HTMLInputElement).value || `Sample ${i + 1}`;
              }),
          }),
        ),
        ...columns.map(({ g, k, label }) => {
          const value = sample.record[g]?.[k];
          return h(
            'td',
            {},
            h('input', {
              type: 'text',
              value: value === undefined ? '' : String(value),
              'aria-label': `Sample ${i + 1}: ${label}`,
              onchange: (e) =>
                this.draft.change((mm) => {
                  const record = mm.samples[i]!.record;
                  record[g] ??= {};
                  const v = (e.target as HTMLInputElement).value;
                  if (v === '') delete record[g][k];
                  else record[g][k] = v;
                }),
            }),
          );
        }),
        h(
          'td',
          {},
          h('button', {
            type: 'button',
            text: `Preview ${sample.name}`,
            'aria-pressed': i === this.current ? 'true' : 'false',
            onclick: () => {
              this.current = i;
              this.draw();
              this.previewed();
            },
          }),
        ),
      ),
    );
    this.root.replaceChildren(
      section(
        'Samples',
        h('p', { class: 'help', text: 'Every sample must render before the version can be published.' }),
        h(
          'div',
          { class: 'd-scroll' },
          h(
            'table',
            { class: 'list' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col', text: 'Sample' }),
                ...columns.map((c) => h('th', { scope: 'col', text: c.label })),
                h('th', { scope: 'col', text: 'Preview' }),
              ),
            ),
            h('tbody', {}, ...rows),
          ),
        ),
        h('button', {
          type: 'button',
          text: 'Add sample',
          onclick: () =>
            this.draft.change((mm) => {
              mm.samples.push({
                name: `Sample ${mm.samples.length + 1}`,
                record: { prospect: {}, rep: {}, fields: {} },
              });
            }),
        }),
      ),
    );
  }
}
