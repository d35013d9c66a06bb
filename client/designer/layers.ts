/** Pages and the layers list: add elements, pick a page, z-order, and show or hide in the designer. */
import { h, section } from './dom.js';
import type { Kind } from './properties.js';
import { type Draft, editableByReps } from './state.js';

export class Layers {
  readonly root = h('div', { class: 'd-layers' });

  constructor(
    private readonly draft: Draft,
    private readonly kinds: Kind[],
    private readonly redraw: () => void,
  ) {}

  draw(): void {
    const { draft } = this;
    const pages = h(
      'select',
      {
        id: 'd-page',
        onchange: (e) => {
          draft.page = Number((e.target as HTMLSelectElement).value);
          draft.select([]);
        },
      },
      ...draft.manifest.pages.map((p, i) =>
        h('option', { value: i, text: `${i + 1}: ${p.name}`, selected: i === draft.page }),
      ),
    );
    const kind = h(
      'select',
      { id: 'd-add-kind' },
      ...this.kinds.map((k) => h('option', { value: k.type, text: k.label })),
    );
    const add = h('button', {
      type: 'button',
      text: 'Add element',
      onclick: () => this.add(kind.value),
    });
    const els = draft.elements();
    // Listed top first: the last element of the page is drawn over the others.
    const rows = [...els].reverse().map((el) => {
      const i = els.indexOf(el);
      const label = this.kinds.find((k) => k.type === el.type)?.label ?? el.type;
      const move = (by: number, text: string, disabled: boolean) =>
        h('button', {
          type: 'button',
          class: 'd-small',
          text: by > 0 ? '↑' : '↓',
          title: text,
          'aria-label': `${text}: ${el.name}`,
          disabled,
          onclick: () =>
            draft.change((m) => {
              const list = m.pages[draft.page]!.elements;
              const [moved] = list.splice(i, 1);
              list.splice(i + by, 0, moved!);
            }),
        });
      const shown = h('input', {
        type: 'checkbox',
        checked: !draft.hidden.has(el.name),
        'aria-label': `Show ${el.name} in the designer`,
        onchange: (e) => {
          if ((e.target as HTMLInputElement).checked) draft.hidden.delete(el.name);
          else draft.hidden.add(el.name);
          this.redraw();
        },
      });
      return h(
        'li',
        { class: draft.selection.includes(el.name) ? 'd-selected' : '' },
        shown,
        h('button', {
          type: 'button',
          class: 'link',
          text: `${el.name} (${label}, ${editableByReps(el) ? 'editable by reps' : 'locked'})`,
          'aria-pressed': draft.selection.includes(el.name) ? 'true' : 'false',
          onclick: () => draft.select([el.name]),
        }),
        move(1, 'Bring forward', i === els.length - 1),
        move(-1, 'Send backward', i === 0),
      );
    });
    const pageName = h('input', {
      id: 'd-page-name',
      type: 'text',
      value: draft.manifest.pages[draft.page]?.name ?? '',
      onchange: (e) => this.renamePage((e.target as HTMLInputElement).value.trim()),
    });
    this.root.replaceChildren(
      section(
        'Layers',
        h('div', { class: 'd-field' }, h('label', { for: 'd-page', text: 'Page' }), pages),
        h('div', { class: 'd-field' }, h('label', { for: 'd-page-name', text: 'Page name' }), pageName),
        h('button', { type: 'button', text: 'Add a page', onclick: () => this.addPage() }),
        h('div', { class: 'd-field' }, h('label', { for: 'd-add-kind', text: 'New element' }), kind, add),
        rows.length
          ? h('ul', { class: 'd-layer-list' }, ...rows)
          : h('p', { text: 'No elements on this page yet.' }),
      ),
    );
  }

  private renamePage(name: string): void {
    if (
      !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ||
      this.draft.manifest.pages.some((p) => p.name === name)
    ) {
      this.draw();
      return;
    }
    this.draft.change((m) => {
      m.pages[this.draft.page]!.name = name;
    });
  }

  /** A new empty page (a side) after the last, shown at once. */
  private addPage(): void {
    const names = new Set(this.draft.manifest.pages.map((p) => p.name));
    let n = this.draft.manifest.pages.length + 1;
    while (names.has(`page${n}`)) n++;
    this.draft.change((m) => {
      m.pages.push({ name: `page${n}`, elements: [] });
    });
    this.draft.page = this.draft.manifest.pages.length - 1;
    this.draft.select([]);
  }

  private add(type: string): void {
    const kind = this.kinds.find((k) => k.type === type);
    if (!kind) return;
    const name = this.draft.freshName(type);
    const square = ['qr', 'image', 'svg', 'ellipse'].includes(type);
    this.draft.change((m) =>
      m.pages[this.draft.page]!.elements.push({
        type,
        name,
        x: 36,
        y: 36,
        w: square ? 72 : type === 'imb' ? 216 : 144,
        h: square ? 72 : type === 'imb' ? 18 : 36,
        ...structuredClone(kind.defaults),
      }),
    );
    this.draft.select([name]);
  }
}
