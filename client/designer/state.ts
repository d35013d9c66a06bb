/** The draft: its manifest, the selection, undo and redo, and autosave across a reload. */

export interface Element {
  type: string;
  name: string;
  x: number;
  y: number;
  w: number;
  h: number;
  [key: string]: unknown;
}
export interface InputDef {
  type?: string;
  label?: string;
  help?: string;
  required?: boolean;
  default?: string | boolean;
  maxLength?: number;
  choices?: string[];
  /** A named format (a pattern preset), or a custom pattern with its description in words. */
  format?: string;
  pattern?: string;
  patternHelp?: string;
}
export type InputGroup = 'prospect' | 'rep' | 'fields';
export interface Manifest {
  name: string;
  page: { size: string | { width: number; height: number }; orientation?: string; bleed?: number };
  fonts: Record<string, Record<string, string>>;
  colors: Record<string, unknown>;
  prospect: Record<string, InputDef>;
  rep: Record<string, InputDef>;
  fields: Record<string, InputDef>;
  pages: { name: string; elements: Element[] }[];
  samples: { name: string; record: Record<InputGroup, Record<string, unknown>> }[];
  [key: string]: unknown;
}

interface Saved {
  manifest: Manifest;
  assets: Record<string, string>;
}

type Listener = (why: 'manifest' | 'selection') => void;

const HISTORY = 200;

export class Draft {
  manifest: Manifest;
  /** Uploaded files by package path: the sha256 of each stored asset. */
  assets: Record<string, string> = {};
  page = 0;
  selection: string[] = [];
  /** Elements hidden in the designer only (they still print). */
  hidden = new Set<string>();
  private undos: string[] = [];
  private redos: string[] = [];
  private listeners: Listener[] = [];
  private readonly key: string;
  /** Whether the draft was restored from the browser's copy of unsaved work. */
  readonly restored: boolean;

  constructor(templateId: string, version: number, manifest: Manifest) {
    this.key = `platen-designer:${templateId}:${version}`;
    const saved = this.load();
    this.restored = saved !== null;
    this.manifest = saved?.manifest ?? structuredClone(manifest);
    this.assets = saved?.assets ?? {};
    for (const group of ['prospect', 'rep', 'fields'] as const) this.manifest[group] ??= {};
    this.manifest.colors ??= {};
    this.manifest.samples ??= [];
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  private emit(why: 'manifest' | 'selection'): void {
    for (const l of this.listeners) l(why);
  }

  /** Every change to the manifest goes through here, so undo covers it. */
  change(apply: (m: Manifest) => void): void {
    const before = JSON.stringify(this.manifest);
    apply(this.manifest);
    if (JSON.stringify(this.manifest) === before) return;
    this.undos.push(before);
    if (this.undos.length > HISTORY) this.undos.shift();
    this.redos = [];
    this.touched();
  }

  undo(): void {
    const before = this.undos.pop();
    if (before === undefined) return;
    this.redos.push(JSON.stringify(this.manifest));
    this.manifest = JSON.parse(before) as Manifest;
    this.touched();
  }

  redo(): void {
    const after = this.redos.pop();
    if (after === undefined) return;
    this.undos.push(JSON.stringify(this.manifest));
    this.manifest = JSON.parse(after) as Manifest;
    this.touched();
  }

  private touched(): void {
    this.selection = this.selection.filter((n) => this.find(n));
    this.persist();
    this.emit('manifest');
  }

  addAsset(path: string, sha256: string): void {
    this.assets[path] = sha256;
    this.persist();
    this.emit('manifest');
  }

  select(names: string[]): void {
    this.selection = names;
    this.emit('selection');
  }

  elements(): Element[] {
    return this.manifest.pages[this.page]?.elements ?? [];
  }

  /** A copy of an element by name, on any page, with its page's index (change it through change()). */
  find(name: string): (Element & { pageIndex: number }) | undefined {
    for (const [i, p] of this.manifest.pages.entries()) {
      const el = p.elements.find((e) => e.name === name);
      if (el) return { ...structuredClone(el), pageIndex: i };
    }
    return undefined;
  }

  /** Runs `apply` on each named element of the current manifest, as one change. */
  changeElements(names: string[], apply: (el: Element) => void): void {
    this.change((m) => {
      for (const p of m.pages) for (const el of p.elements) if (names.includes(el.name)) apply(el);
    });
  }

  /** A name not yet used by any element: `text1`, `text2`, … */
  freshName(base: string): string {
    for (let i = 1; ; i++) if (!this.find(`${base}${i}`)) return `${base}${i}`;
  }

  /** The work is saved as a version: the browser's copy is no longer needed. */
  forget(): void {
    localStorage.removeItem(this.key);
  }

  private persist(): void {
    try {
      localStorage.setItem(
        this.key,
        JSON.stringify({ manifest: this.manifest, assets: this.assets } satisfies Saved),
      );
    } catch {
      // Storage full or denied: autosave is a convenience, saving a version still works.
    }
  }

  private load(): Saved | null {
    try {
      const text = localStorage.getItem(this.key);
      return text ? (JSON.parse(text) as Saved) : null;
    } catch {
      return null;
    }
  }
}

/** Page size in points, trim box: presets are resolved by the server's list. */
export function pageSize(
  m: Manifest,
  presets: { id: string; width: number; height: number }[],
): {
  width: number;
  height: number;
} {
  const size = m.page.size;
  let { width, height } =
    typeof size === 'string' ? (presets.find((p) => p.id === size) ?? { width: 612, height: 792 }) : size;
  if ((m.page.orientation === 'landscape') !== width > height && m.page.orientation)
    [width, height] = [height, width];
  return { width, height };
}

/** Whether reps can change what an element shows: bound to a rep field. */
export function editableByReps(el: Element): boolean {
  if (typeof el.field === 'string') return true;
  return Object.values(el).some((v) => typeof v === 'string' && /\{\{[^}]*fields\./.test(v));
}
