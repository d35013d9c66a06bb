/** The template's own settings: its name, what kind of piece it is, where its tracked link leads. */
import { field, h, section } from './dom.js';
import type { Draft } from './state.js';

const KINDS = ['brochure', 'postcard', 'letter', 'flyer', 'card', 'other'];

export class Settings {
  readonly root = h('div', { class: 'd-settings' });

  constructor(private readonly draft: Draft) {}

  draw(): void {
    const m = this.draft.manifest;
    const output = (m.output ?? {}) as Record<string, unknown>;
    const text = (label: string, value: unknown, apply: (v: string) => void, help?: string) =>
      field(
        label,
        h('input', {
          type: 'text',
          value: typeof value === 'string' ? value : '',
          onchange: (e) => apply((e.target as HTMLInputElement).value.trim()),
        }),
        help,
      );
    const setOutput = (key: string) => (v: string) =>
      this.draft.change((mm) => {
        const out = ((mm.output as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
        if (v) out[key] = v;
        else delete out[key];
        mm.output = out;
      });
    this.root.replaceChildren(
      section(
        'Template',
        text('Template name', m.name, (v) => this.draft.change((mm) => void (mm.name = v || mm.name))),
        field(
          'Kind of piece',
          h(
            'select',
            {
              onchange: (e) =>
                this.draft.change((mm) => void (mm.kind = (e.target as HTMLSelectElement).value)),
            },
            ...KINDS.map((k) => h('option', { value: k, text: k, selected: m.kind === k })),
          ),
        ),
        text(
          'Landing page',
          output.landingUrl,
          setOutput('landingUrl'),
          'Where the piece’s tracked link and QR code lead, e.g. https://example.com/welcome?agent={{rep.id}}.',
        ),
        text(
          'PDF file name in batches',
          output.fileName,
          setOutput('fileName'),
          'e.g. {{prospect.lastName}}.pdf',
        ),
      ),
    );
  }
}
