/**
 * The template's own settings: its name, what kind of piece it is, where its tracked link leads, and
 * the print standard its PDFs are written to.
 */
import { field, h, section } from './dom.js';
import type { Draft } from './state.js';

const KINDS = ['brochure', 'postcard', 'letter', 'flyer', 'card', 'other'];

/** The manifest's `output.standard` values, in words; '' is none. A PDF/X standard prints in CMYK. */
const STANDARDS: [string, string][] = [
  ['', 'None'],
  ['PDF/X-4', 'PDF/X-4: for press, CMYK'],
  ['PDF/X-1a', 'PDF/X-1a: for press, CMYK, no transparency'],
  ['PDF/A-2b', 'PDF/A-2b: pieces to email or archive'],
  ['PDF/A-1b', 'PDF/A-1b: pieces to email or archive, for older archives'],
];

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
    const changeOutput = (edit: (out: Record<string, unknown>) => void) =>
      this.draft.change((mm) => {
        const out = (mm.output as Record<string, unknown> | undefined) ?? {};
        edit(out);
        mm.output = out;
      });
    const setIn = (out: Record<string, unknown>, key: string, v: string) => {
      if (v) out[key] = v;
      else delete out[key];
    };
    const setOutput = (key: string) => (v: string) => changeOutput((out) => setIn(out, key, v));
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
        field(
          'Print standard',
          h(
            'select',
            {
              onchange: (e) => {
                const standard = (e.target as HTMLSelectElement).value;
                changeOutput((out) => {
                  setIn(out, 'standard', standard);
                  // PDF/X files are CMYK throughout: choosing one converts the template for press.
                  if (standard.startsWith('PDF/X')) out.colorSpace = 'cmyk';
                });
              },
            },
            ...STANDARDS.map(([value, words]) =>
              h('option', { value, text: words, selected: (output.standard ?? '') === value }),
            ),
          ),
          'What press needs: PDF/X-4 for most printers; a merged mail drop is PDF/VT-1 as well.',
        ),
      ),
    );
  }
}
