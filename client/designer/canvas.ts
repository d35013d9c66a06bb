/**
 * The canvas: the page as Platen renders it (a PNG of the draft from /preview, cropped to the bleed
 * box) under an overlay of element frames positioned in points × zoom, with trim, bleed and
 * safe-area lines, rulers in the template's unit, Moveable for drag and resize (snapping to guides
 * and to the other frames), Selecto for multi-select, and keys to move and resize.
 */
import Guides from '@scena/guides';
import Moveable from 'moveable';
import Selecto from 'selecto';
import type { Api, DesignProblem, DraftBody } from './api.js';
import { debounce, h, inBackground } from './dom.js';
import { type Draft, editableByReps, type Element, pageSize } from './state.js';

interface CanvasOptions {
  draft: Draft;
  api: Api;
  body: () => DraftBody;
  presets: { id: string; width: number; height: number }[];
  /** Points per ruler unit, and the unit's name. */
  unit: { name: string; points: number };
  nonce: string;
  sample: () => number;
  kindLabel: (type: string) => string;
}

/** Inside the trim, text and logos are kept clear of the cut by this much (0.125 in). */
const SAFE_INSET = 9;
const ZOOMS = [0.5, 0.75, 1, 1.5, 2];
const RULER = 24;

export class Canvas {
  readonly root: HTMLElement;
  zoom = 1;
  private readonly stage: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly image: HTMLImageElement;
  private readonly status: HTMLElement;
  private readonly moveable: Moveable;
  private readonly selecto: Selecto;
  private guides: Guides[] = [];
  private readonly rulers: { top: HTMLElement; left: HTMLElement };
  private guideLines: { v: number[]; h: number[] } = { v: [], h: [] };
  private preview: AbortController | null = null;
  private imageUrl = '';
  readonly refresh: () => void;

  constructor(private readonly o: CanvasOptions) {
    const zoom = h(
      'select',
      { id: 'd-zoom', onchange: (e) => this.setZoom(Number((e.target as HTMLSelectElement).value)) },
      ...ZOOMS.map((z) => h('option', { value: z, text: `${z * 100}%`, selected: z === 1 })),
    );
    const tool = (label: string, run: () => void) =>
      h('button', { type: 'button', onclick: run, text: label });
    const toolbar = h(
      'div',
      { class: 'd-toolbar', role: 'toolbar', 'aria-label': 'Arrange' },
      h('label', { for: 'd-zoom', text: 'Zoom' }),
      zoom,
      tool('Align left', () => this.align('left')),
      tool('Align centre', () => this.align('centre')),
      tool('Align right', () => this.align('right')),
      tool('Align top', () => this.align('top')),
      tool('Align middle', () => this.align('middle')),
      tool('Align bottom', () => this.align('bottom')),
      tool('Distribute across', () => this.distribute('x')),
      tool('Distribute down', () => this.distribute('y')),
    );
    this.image = h('img', { class: 'd-page', alt: '' });
    this.stage = h('div', { class: 'd-stage' }, this.image);
    this.viewport = h('div', { class: 'd-viewport' }, this.stage);
    this.rulers = { top: h('div', { class: 'd-ruler-top' }), left: h('div', { class: 'd-ruler-left' }) };
    this.status = h('p', { class: 'd-canvas-status', role: 'status' });
    this.root = h(
      'section',
      { class: 'd-canvas', 'aria-label': 'Page' },
      toolbar,
      h('p', {
        class: 'help',
        id: 'd-keys',
        text: 'Select a frame, then arrow keys move it by 1 pt (Shift: 10 pt); Alt with the arrows resizes it; Delete removes it.',
      }),
      h(
        'div',
        { class: 'd-rulers' },
        h('div', { class: 'd-corner' }),
        this.rulers.top,
        this.rulers.left,
        this.viewport,
      ),
      this.status,
    );
    this.moveable = new Moveable(this.stage, {
      draggable: true,
      resizable: true,
      snappable: true,
      snapThreshold: 5,
      snapDirections: { left: true, top: true, right: true, bottom: true, center: true, middle: true },
      elementSnapDirections: { left: true, top: true, right: true, bottom: true, center: true, middle: true },
      origin: false,
      cspNonce: o.nonce,
    });
    // Frames move by the distance dragged from where they started (snapping included).
    const starts = new WeakMap<HTMLElement | SVGElement, [number, number]>();
    const begin = (t: HTMLElement | SVGElement) =>
      starts.set(t, [parseFloat(t.style.left), parseFloat(t.style.top)]);
    const moveBy = (t: HTMLElement | SVGElement, dist: number[]) => {
      const [left, top] = starts.get(t) ?? [0, 0];
      place(t, left + dist[0]!, top + dist[1]!);
    };
    const resize = (t: HTMLElement | SVGElement, width: number, height: number, dist: number[]) => {
      t.style.width = `${width}px`;
      t.style.height = `${height}px`;
      moveBy(t, dist);
    };
    this.moveable
      .on('dragStart', (e) => begin(e.target))
      .on('drag', (e) => moveBy(e.target, e.beforeDist))
      .on('dragEnd', (e) => e.isDrag && this.commit([e.target]))
      .on('dragGroupStart', (e) => e.events.forEach((ev) => begin(ev.target)))
      .on('dragGroup', (e) => e.events.forEach((ev) => moveBy(ev.target, ev.beforeDist)))
      .on('dragGroupEnd', (e) => e.isDrag && this.commit(e.targets))
      .on('resizeStart', (e) => begin(e.target))
      .on('resize', (e) => resize(e.target, e.width, e.height, e.drag.beforeDist))
      .on('resizeEnd', (e) => e.isDrag && this.commit([e.target]))
      .on('resizeGroupStart', (e) => e.events.forEach((ev) => begin(ev.target)))
      .on('resizeGroup', (e) =>
        e.events.forEach((ev) => resize(ev.target, ev.width, ev.height, ev.drag.beforeDist)),
      )
      .on('resizeGroupEnd', (e) => e.isDrag && this.commit(e.targets));

    this.selecto = new Selecto({
      container: this.stage,
      dragContainer: this.viewport,
      selectableTargets: ['.d-frame'],
      hitRate: 0,
      selectByClick: true,
      selectFromInside: false,
      toggleContinueSelect: ['shift'],
      cspNonce: o.nonce,
    });
    this.selecto
      .on('dragStart', (e) => {
        // Moveable takes a press on its handles or on the one selected frame (a drag); a press on a
        // frame of a multi-selection is Selecto's click, which selects that frame alone.
        const target = e.inputEvent.target as HTMLElement;
        const frames = this.selectedFrames();
        if (this.moveable.isMoveableElement(target) || (frames.length === 1 && frames[0]!.contains(target)))
          e.stop();
      })
      .on('select', (e) => o.draft.select(e.selected.map((el) => (el as HTMLElement).dataset.name!)));
    this.stage.addEventListener('keydown', (e) => this.key(e));
    this.refresh = debounce(250, () => inBackground(this.render()));
  }

  private get bleed(): number {
    return Number(this.o.draft.manifest.page.bleed ?? 0);
  }

  setZoom(zoom: number): void {
    this.zoom = zoom;
    this.draw();
    this.refresh();
  }

  /** Lays out the stage, its lines and frames for the current page, selection and zoom. */
  draw(): void {
    const { draft } = this.o;
    const z = this.zoom;
    const b = this.bleed;
    const { width, height } = pageSize(draft.manifest, this.o.presets);
    this.stage.style.width = `${(width + 2 * b) * z}px`;
    this.stage.style.height = `${(height + 2 * b) * z}px`;
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.d-frame')?.dataset
      .name;
    for (const old of this.stage.querySelectorAll('.d-line, .d-frame')) old.remove();
    const line = (cls: string, inset: number, label: string) => {
      const el = h('div', { class: `d-line ${cls}`, title: label, 'aria-hidden': 'true' });
      Object.assign(el.style, {
        left: `${inset * z}px`,
        top: `${inset * z}px`,
        width: `${(width + 2 * b - 2 * inset) * z}px`,
        height: `${(height + 2 * b - 2 * inset) * z}px`,
      });
      this.stage.append(el);
    };
    line('d-bleed', 0, 'Bleed');
    line('d-trim', b, 'Trim');
    line('d-safe', b + SAFE_INSET, 'Safe area');
    const frames: HTMLElement[] = [];
    for (const el of draft.elements()) {
      if (draft.hidden.has(el.name)) continue;
      const frame = this.frame(el);
      frames.push(frame);
      this.stage.append(frame);
    }
    // Frames are drawn anew: the one that had the focus keeps it, for those working with keys.
    frames.find((f) => f.dataset.name === focused)?.focus();
    const selected = frames.filter((f) => draft.selection.includes(f.dataset.name!));
    this.moveable.elementGuidelines = frames.filter((f) => !selected.includes(f));
    this.moveable.verticalGuidelines = [
      b * z,
      (width + b) * z,
      ...this.guideLines.v.map((g) => this.toPx(g)),
    ];
    this.moveable.horizontalGuidelines = [
      b * z,
      (height + b) * z,
      ...this.guideLines.h.map((g) => this.toPx(g)),
    ];
    this.moveable.target = selected;
    this.selecto.setSelectedTargets(selected);
    this.image.alt = `Page ${draft.page + 1} (${draft.manifest.pages[draft.page]?.name ?? ''}) as Platen prints it`;
    this.drawRulers(width, height);
  }

  /** A ruler value (template units from the trim's top-left) in stage pixels. */
  private toPx(value: number): number {
    return (value * this.o.unit.points + this.bleed) * this.zoom;
  }

  private drawRulers(width: number, height: number): void {
    for (const g of this.guides) g.destroy();
    // destroy() leaves the rulers' containers behind.
    this.rulers.top.replaceChildren();
    this.rulers.left.replaceChildren();
    const b = this.bleed;
    const z = this.zoom;
    const unitZoom = z * this.o.unit.points;
    const make = (container: HTMLElement, type: 'horizontal' | 'vertical', length: number) => {
      const g = new Guides(container, {
        type,
        zoom: unitZoom,
        unit: this.o.unit.points >= 72 ? 1 : 10,
        rulerStyle:
          type === 'horizontal'
            ? { width: `${length}px`, height: `${RULER}px` }
            : { width: `${RULER}px`, height: `${length}px` },
        displayDragPos: true,
        textFormat: (v: number) => `${v}`,
        cspNonce: this.o.nonce,
      });
      g.scroll(-b / this.o.unit.points);
      g.scrollGuides(-b / this.o.unit.points);
      g.on('changeGuides', (e) => {
        this.guideLines[type === 'horizontal' ? 'h' : 'v'] = e.guides;
        this.draw();
      });
      return g;
    };
    this.guides = [
      make(this.rulers.top, 'horizontal', (width + 2 * b) * z),
      make(this.rulers.left, 'vertical', (height + 2 * b) * z),
    ];
  }

  private frame(el: Element): HTMLElement {
    const z = this.zoom;
    const b = this.bleed;
    const editable = editableByReps(el);
    const selected = this.o.draft.selection.includes(el.name);
    // The frame is named by what it shows: the badge, and its kind for screen readers.
    const badge = `${el.name}, ${editable ? 'editable by reps' : 'locked'}`;
    const kind = ` (${this.o.kindLabel(el.type)})`;
    const frame = h(
      'div',
      {
        class: `d-frame ${editable ? 'd-editable' : 'd-locked'}${selected ? ' d-selected' : ''}`,
        role: 'button',
        tabindex: 0,
        'aria-pressed': selected ? 'true' : 'false',
        'aria-describedby': 'd-keys',
        'data-name': el.name,
        title: badge + kind,
      },
      h('span', { class: 'd-badge', text: badge }),
      h('span', { class: 'visually-hidden', text: kind }),
    );
    Object.assign(frame.style, {
      left: `${(el.x + b) * z}px`,
      top: `${(el.y + b) * z}px`,
      width: `${Math.max(el.w, 1) * z}px`,
      height: `${Math.max(el.h, 1) * z}px`,
    });
    frame.addEventListener('focus', () => {
      if (!this.o.draft.selection.includes(el.name)) this.o.draft.select([el.name]);
    });
    return frame;
  }

  private selectedFrames(): HTMLElement[] {
    return [...this.stage.querySelectorAll<HTMLElement>('.d-frame.d-selected')];
  }

  /** Frames moved or resized on screen become the elements' x, y, w and h, in one change. */
  private commit(targets: (HTMLElement | SVGElement)[]): void {
    const z = this.zoom;
    const b = this.bleed;
    const boxes = new Map(
      targets.map((t) => {
        const s = (t as HTMLElement).style;
        const pt = (px: string) => Math.round((parseFloat(px) / z) * 100) / 100;
        return [
          (t as HTMLElement).dataset.name!,
          { x: pt(s.left) - b, y: pt(s.top) - b, w: pt(s.width), h: pt(s.height) },
        ];
      }),
    );
    this.o.draft.changeElements([...boxes.keys()], (el) => {
      const box = boxes.get(el.name)!;
      el.x = round(box.x);
      el.y = round(box.y);
      el.w = round(box.w);
      el.h = round(box.h);
    });
  }

  private key(e: KeyboardEvent): void {
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    const names = this.o.draft.selection;
    if (e.key === 'Delete' && names.length > 0) {
      e.preventDefault();
      this.o.draft.change((m) => {
        for (const page of m.pages) page.elements = page.elements.filter((el) => !names.includes(el.name));
      });
      return;
    }
    if (!step || names.length === 0) {
      if ((e.key === 'Enter' || e.key === ' ') && (e.target as HTMLElement).dataset.name) {
        e.preventDefault();
        this.o.draft.select([(e.target as HTMLElement).dataset.name!]);
      }
      return;
    }
    e.preventDefault();
    const by = e.shiftKey ? 10 : 1;
    const [dx, dy] = [step[0]! * by, step[1]! * by];
    this.o.draft.changeElements(names, (el) => {
      if (e.altKey) {
        el.w = round(Math.max(1, el.w + dx));
        el.h = round(Math.max(1, el.h + dy));
      } else {
        el.x = round(el.x + dx);
        el.y = round(el.y + dy);
      }
    });
  }

  private align(to: 'left' | 'centre' | 'right' | 'top' | 'middle' | 'bottom'): void {
    const els = this.o.draft.selection.map((n) => this.o.draft.find(n)!).filter(Boolean);
    if (els.length === 0) return;
    // One element aligns to the trim; several to the box around them.
    const { width, height } = pageSize(this.o.draft.manifest, this.o.presets);
    const box =
      els.length === 1
        ? { x0: 0, y0: 0, x1: width, y1: height }
        : {
            x0: Math.min(...els.map((e) => e.x)),
            y0: Math.min(...els.map((e) => e.y)),
            x1: Math.max(...els.map((e) => e.x + e.w)),
            y1: Math.max(...els.map((e) => e.y + e.h)),
          };
    this.o.draft.changeElements(
      els.map((e) => e.name),
      (el) => {
        if (to === 'left') el.x = box.x0;
        if (to === 'right') el.x = round(box.x1 - el.w);
        if (to === 'centre') el.x = round((box.x0 + box.x1 - el.w) / 2);
        if (to === 'top') el.y = box.y0;
        if (to === 'bottom') el.y = round(box.y1 - el.h);
        if (to === 'middle') el.y = round((box.y0 + box.y1 - el.h) / 2);
      },
    );
  }

  /** Equal gaps between three or more elements, the outer two kept in place. */
  private distribute(axis: 'x' | 'y'): void {
    const size = axis === 'x' ? 'w' : 'h';
    const els = this.o.draft.selection
      .map((n) => this.o.draft.find(n)!)
      .filter(Boolean)
      .sort((a, b) => a[axis] - b[axis]);
    if (els.length < 3) {
      this.status.textContent = 'Select three or more elements to distribute them.';
      return;
    }
    const first = els[0]!;
    const last = els.at(-1)!;
    const total = els.reduce((s, e) => s + e[size], 0);
    const gap = (last[axis] + last[size] - first[axis] - total) / (els.length - 1);
    const at = new Map<string, number>();
    let pos = first[axis];
    for (const e of els) {
      at.set(e.name, round(pos));
      pos += e[size] + gap;
    }
    this.o.draft.changeElements([...at.keys()], (el) => {
      el[axis] = at.get(el.name)!;
    });
  }

  /** Fetches the page's render for the current draft, cancelling any older request. */
  private async render(): Promise<void> {
    this.preview?.abort();
    const abort = new AbortController();
    this.preview = abort;
    const scale = Math.min(4, this.zoom * (window.devicePixelRatio || 1));
    try {
      const answer = await this.o.api.preview(
        { ...this.o.body(), page: this.o.draft.page + 1, scale, sample: this.o.sample() },
        abort.signal,
      );
      if (abort.signal.aborted) return;
      if (answer instanceof Blob) {
        URL.revokeObjectURL(this.imageUrl);
        this.imageUrl = URL.createObjectURL(answer);
        this.image.src = this.imageUrl;
        this.root.dataset.rendered = String(Number(this.root.dataset.rendered ?? 0) + 1);
        this.status.textContent = '';
      } else {
        this.status.textContent = `The page cannot be drawn yet: ${describe(answer)}`;
      }
    } catch (error) {
      if (!abort.signal.aborted)
        this.status.textContent = `The page could not be drawn: ${(error as Error).message}`;
    }
  }
}

function place(target: HTMLElement | SVGElement, left: number, top: number): void {
  target.style.left = `${left}px`;
  target.style.top = `${top}px`;
}

const round = (v: number) => Math.round(v * 100) / 100;

function describe(problems: DesignProblem[]): string {
  return problems
    .slice(0, 3)
    .map((p) => (p.element ? `${p.element}: ${p.message}` : p.message))
    .join('; ');
}
