/** Building the panels' DOM: elements with attributes and children, labelled controls. */

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'value') (el as HTMLInputElement).value = String(value);
    else if (key === 'checked') (el as HTMLInputElement).checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

let ids = 0;
/** A unique id for a control, so its label can name it. */
const uid = (base: string): string => `d-${base.replace(/[^A-Za-z0-9_-]/g, '-')}-${++ids}`;

/** A label and its control, as one field row. */
export function field(label: string, control: HTMLElement, help?: string): HTMLElement {
  control.id ||= uid(label);
  const helpEl = help ? h('p', { class: 'help', id: `${control.id}-help`, text: help }) : null;
  if (helpEl) control.setAttribute('aria-describedby', helpEl.id);
  return h('div', { class: 'd-field' }, h('label', { for: control.id, text: label }), control, helpEl);
}

/** A section of a panel with a heading. */
export function section(title: string, ...children: (Node | null)[]): HTMLElement {
  const id = uid(title);
  return h('section', { class: 'd-panel', 'aria-labelledby': id }, h('h2', { id, text: title }), ...children);
}

export function debounce(ms: number, run: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
}

/** Runs work the page does not wait for; what fails unexpectedly is logged, not lost. */
export function inBackground(work: Promise<unknown>): void {
  work.catch((error: unknown) => console.error(error));
}

/** A control's name as people read it: its aria-label, its label, or its text. */
function nameOf(el: HTMLElement): string {
  const labels = (el as HTMLInputElement).labels;
  return el.getAttribute('aria-label') ?? labels?.[0]?.textContent ?? el.textContent ?? '';
}

/**
 * Runs `redraw` (which replaces panels' controls) and gives the focus back to the control of the
 * same kind and name, so someone working with the keyboard (a checkbox, a list) stays where they were.
 */
export function keepingFocus(redraw: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const was = active && active !== document.body && !active.classList.contains('d-frame') ? active : null;
  const key = was && { tag: was.tagName, name: nameOf(was) };
  redraw();
  if (!key || (was && document.contains(was))) return;
  const controls = document.querySelectorAll<HTMLElement>(
    '#designer button, #designer input, #designer select, #designer textarea',
  );
  [...controls].find((el) => el.tagName === key.tag && nameOf(el) === key.name)?.focus();
}
