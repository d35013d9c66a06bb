/** The designer page: reads the data the server embedded, builds the panels and wires them together. */
import { Api, type DraftBody } from './api.js';
import { Brand } from './brand.js';
import { Canvas } from './canvas.js';
import { h, keepingFocus } from './dom.js';
import { Inputs, type PatternPreset } from './inputs.js';
import { Layers } from './layers.js';
import { Problems } from './problems.js';
import { type Kind, Properties } from './properties.js';
import { Samples } from './samples.js';
import { Settings } from './settings.js';
import { Draft, type Manifest } from './state.js';
import { Versions } from './versions.js';
import './designer.css';

interface PageData {
  templateId: string;
  version: number;
  state: string;
  manifest: Manifest;
  files: string[];
  kinds: {
    kinds: Kind[];
    pagePresets: { id: string; label: string; width: number; height: number }[];
    patternPresets: PatternPreset[];
  };
  csrf: string;
  nonce: string;
  approval: boolean;
}

function start(): void {
  const root = document.getElementById('designer');
  const dataEl = document.getElementById('designer-data');
  if (!root || !dataEl) return;
  const data = JSON.parse(dataEl.textContent ?? '{}') as PageData;
  const draft = new Draft(data.templateId, data.version, data.manifest);
  const api = new Api(data.templateId, data.csrf);
  const body = (): DraftBody => ({ manifest: draft.manifest, from: data.version, assets: draft.assets });
  const kinds = data.kinds.kinds;
  const files = () => [...new Set([...data.files, ...Object.keys(draft.assets)])].sort();
  const samples = new Samples(draft, () => canvas.refresh());
  const canvas = new Canvas({
    draft,
    api,
    body,
    presets: data.kinds.pagePresets,
    unit: unitOf(data.manifest),
    nonce: data.nonce,
    sample: () => samples.current,
    kindLabel: (type) => kinds.find((k) => k.type === type)?.label ?? type,
  });
  const problems = new Problems(draft, api, body);
  const versions = new Versions(
    draft,
    api,
    { templateId: data.templateId, version: data.version, state: data.state, approval: data.approval },
    () => api.save(body()),
    () => {
      if (!problems.current) return 'the draft is still being checked: try again in a moment.';
      if (problems.problems.length === 0) return null;
      return problems.problems.map((p) => (p.element ? `${p.element}: ${p.message}` : p.message)).join('; ');
    },
  );
  const layers = new Layers(draft, kinds, () => canvas.draw());
  const properties = new Properties(draft, kinds, files);
  const inputs = new Inputs(draft, data.kinds.patternPresets);
  const brand = new Brand(draft, api);
  const settings = new Settings(draft);
  const notice = h('p', { role: 'status', class: 'd-notice' });
  if (draft.restored)
    notice.textContent =
      'Your unsaved changes from last time were restored. Save them as a new version, or undo them.';
  if (new URLSearchParams(location.search).get('saved'))
    notice.textContent = `Saved as version ${data.version}.`;

  root.replaceChildren(
    notice,
    h(
      'div',
      { class: 'd-grid' },
      h('div', { class: 'd-left' }, layers.root, problems.root),
      canvas.root,
      h('div', { class: 'd-right' }, properties.root),
    ),
    h('div', { class: 'd-bottom' }, versions.root, settings.root, samples.root, inputs.root, brand.root),
  );

  const drawAll = () => {
    layers.draw();
    canvas.draw();
    properties.draw();
  };
  const redraw = (why: 'manifest' | 'selection') => {
    drawAll();
    if (why !== 'manifest') return;
    versions.dirty = true;
    inputs.draw();
    brand.draw();
    settings.draw();
    samples.draw();
    canvas.refresh();
    problems.stale();
  };
  draft.on((why) => keepingFocus(() => redraw(why)));
  document.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== 'z') return;
    // In a text box the browser's own undo applies to what is being typed.
    const t = e.target as HTMLElement;
    if (t.matches('input[type=text], input[type=number], textarea')) return;
    e.preventDefault();
    if (e.shiftKey) draft.redo();
    else draft.undo();
  });
  drawAll();
  inputs.draw();
  brand.draw();
  settings.draw();
  samples.draw();
  versions.draw();
  canvas.refresh();
  problems.stale();
}

/** The ruler's unit: inches for templates sized in inches (the US presets), else millimetres. */
function unitOf(m: Manifest): { name: string; points: number } {
  const size = typeof m.page.size === 'string' ? m.page.size : '';
  return size === 'a4' ? { name: 'mm', points: 72 / 25.4 } : { name: 'in', points: 72 };
}

start();
