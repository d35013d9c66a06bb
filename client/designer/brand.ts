/** The brand: the palette (RGB, CMYK and spot inks) and uploads of fonts, images and SVG art. */
import type { Api } from './api.js';
import { field, h, section, inBackground } from './dom.js';
import type { Draft } from './state.js';

/** A palette value as people type it: `#1F3A5F`, `cmyk 100 60 0 20`, `spot PANTONE 2597 C: 85 100 0 0`. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { cmyk?: number[]; spot?: string; color?: unknown; keepInks?: true };
  if (v.keepInks) return `${describe(v.color)} (keeps its inks)`;
  if (v.spot) return `spot ${v.spot}: ${v.cmyk?.join(' ')}`;
  return `cmyk ${v.cmyk?.join(' ')}`;
}

function parse(text: string): unknown {
  const t = text.trim();
  if (/^#[0-9A-Fa-f]{6}$/.test(t)) return t.toUpperCase();
  const cmyk = /^cmyk\s+([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)$/i.exec(t);
  if (cmyk) return { cmyk: cmyk.slice(1).map(Number) };
  const spot = /^spot\s+(.+?):\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)$/i.exec(t);
  if (spot) return { spot: spot[1], cmyk: spot.slice(2).map(Number) };
  return null;
}

export class Brand {
  readonly root = h('div', { class: 'd-brand' });
  private readonly status = h('p', { role: 'status', class: 'd-status' });

  constructor(
    private readonly draft: Draft,
    private readonly api: Api,
  ) {}

  draw(): void {
    const m = this.draft.manifest;
    const colours = Object.entries(m.colors).map(([name, value]) => {
      const input = h('input', {
        type: 'text',
        value: describe(value),
        onchange: (e) => this.setColour(name, (e.target as HTMLInputElement).value),
      });
      const swatch = h('span', { class: 'd-swatch', 'aria-hidden': 'true' });
      if (typeof value === 'string') swatch.style.background = value;
      const row = field(`Colour ${name}`, input);
      row.prepend(swatch);
      return row;
    });
    const name = h('input', { id: 'd-colour-name', type: 'text' });
    const value = h('input', { id: 'd-colour-value', type: 'text', placeholder: '#1F3A5F' });
    const file = h('input', { id: 'd-upload', type: 'file', accept: '.png,.jpg,.jpeg,.svg,.ttf,.otf' });
    this.root.replaceChildren(
      section(
        'Brand',
        h('h3', { text: 'Palette' }),
        ...colours,
        h(
          'div',
          { class: 'd-inline' },
          field('New colour name', name),
          field(
            'Value',
            value,
            'RGB "#1F3A5F", CMYK "cmyk 100 60 0 20", or a spot ink "spot PANTONE 2597 C: 85 100 0 0".',
          ),
          h('button', {
            type: 'button',
            text: 'Add colour',
            onclick: () => this.setColour(name.value.trim(), value.value),
          }),
        ),
        h('h3', { text: 'Fonts, images and SVG art' }),
        field(
          'File to upload',
          file,
          'TTF or OTF fonts, JPEG or PNG images, SVG art: each is checked as package files are.',
        ),
        h('button', { type: 'button', text: 'Upload', onclick: () => inBackground(this.upload(file)) }),
        this.status,
        h('p', { text: `Fonts: ${Object.keys(m.fonts).join(', ')}.` }),
      ),
    );
  }

  private setColour(name: string, text: string): void {
    const value = parse(text);
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) || value === null) {
      this.status.textContent =
        'A colour needs a one-word name and a value such as "#1F3A5F", "cmyk 100 60 0 20" or "spot PANTONE 2597 C: 85 100 0 0".';
      return;
    }
    this.draft.change((m) => {
      m.colors[name] = value;
    });
  }

  private async upload(input: HTMLInputElement): Promise<void> {
    const file = input.files?.[0];
    if (!file) {
      this.status.textContent = 'Choose a file first.';
      return;
    }
    const safe = file.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    const folder = /\.(ttf|otf)$/.test(safe) ? 'fonts' : /\.svg$/.test(safe) ? 'art' : 'images';
    const path = `${folder}/${safe}`;
    this.status.textContent = `Uploading ${file.name}…`;
    try {
      const asset = await this.api.storeAsset(path, file);
      this.draft.addAsset(asset.path, asset.sha256);
      if (asset.kind === 'font') {
        const family = safe
          .replace(/\.[a-z]+$/, '')
          .replace(/[^A-Za-z0-9_]/g, '_')
          .replace(/^[^A-Za-z]+/, 'font');
        this.draft.change((m) => {
          m.fonts[family] = { regular: asset.path };
        });
      }
      this.status.textContent = `Uploaded ${asset.path}.`;
    } catch (error) {
      this.status.textContent = `${file.name} was not added: ${(error as Error).message}`;
    }
  }
}
