// The template form: live preview (placeholders until the rep types, the page of the field being
// edited, overflowing text outlined, zoom), fit feedback, character counters, image uploads, a
// Download button that says why it is disabled, and the piece in progress kept across reloads.
// Plain browser script, no build step; the pages work without it (the form still posts).
(function () {
  'use strict';
  // A refused form comes back with a summary of its problems at the top: read it first.
  const summary = document.getElementById('error-summary');
  if (summary) summary.focus();

  const form = document.getElementById('piece-form');
  if (!form) return;
  const csrf = form.elements.namedItem('_csrf').value;
  const version = Number(form.dataset.version);
  const image = document.getElementById('preview-image');
  const sheet = document.getElementById('preview-sheet');
  const overflowList = document.getElementById('preview-overflow');
  const previewStatus = document.getElementById('preview-status');
  const formStatus = document.getElementById('form-status');
  const download = document.getElementById('download');
  const downloadReason = document.getElementById('download-reason');
  const DEBOUNCE_MS = 300;
  const ZOOMS = [1, 1.5, 2, 3];
  /** The piece in progress, per person and template, for this tab: it survives a reload, not the tab. */
  const STORAGE_KEY = `platen:piece:${form.dataset.owner}:${form.dataset.template}`;
  /** Field names the user has changed: only their problems are shown while typing. */
  const touched = new Set();
  let page = 1;
  let zoom = 0;
  let sequence = 0;
  let controller = null;
  let timer = null;
  let previewed = false;
  /** What the last preview found: problems in words and the overflowing boxes. */
  let found = { problems: [], overflow: [], report: [] };

  const idOf = (name) => `in-${name.replace('.', '-')}`;
  const byName = (name, suffix) => document.getElementById(`${idOf(name)}-${suffix}`);
  const controls = () =>
    [...form.elements].filter((el) => /^(rep|prospect|fields)\./.test(el.name) && el.type !== 'file');
  const labelOf = (name) => {
    const label = form.querySelector(`[data-field="${name}"] label`);
    return label ? label.firstChild.textContent.trim() : name;
  };

  function values() {
    const out = {};
    for (const el of controls()) {
      if (el.type === 'checkbox') {
        if (el.checked) out[el.name] = 'true';
      } else out[el.name] = el.value;
    }
    return out;
  }

  function save() {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(values()));
    } catch {
      // Storage full or refused: the piece simply does not survive a reload.
    }
  }

  function restore() {
    let saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    } catch {
      saved = null;
    }
    if (!saved || form.dataset.restore !== 'true') return;
    for (const el of controls()) {
      if (el.type === 'checkbox') el.checked = saved[el.name] === 'true';
      else if (typeof saved[el.name] === 'string') el.value = saved[el.name];
      if (el.name in saved) touched.add(el.name);
    }
    document.getElementById('restored').hidden = false;
  }

  /** Characters to cut from a value for its box to fit, counted as the counter counts (spaces and line breaks too). */
  function charsToCut(value, overflow) {
    let words = 0;
    let i = value.length;
    while (i > 0 && words < overflow.chars) {
      i -= 1;
      if (!/\s/.test(value[i])) words += 1;
    }
    return value.length - i;
  }

  function reportFor(name) {
    return found.report.find((entry) => entry.field !== undefined && `fields.${entry.field}` === name);
  }

  /** How much too long an overflowing box is, in the counter's characters where it shows a field. */
  function cutFor(entry) {
    const el = entry.field !== undefined ? document.getElementById(idOf(`fields.${entry.field}`)) : null;
    return el
      ? charsToCut(el.value, entry.overflow || { chars: entry.chars })
      : entry.overflow
        ? entry.overflow.chars
        : entry.chars;
  }

  function updateCounter(el) {
    const max = Number(el.dataset.max);
    const counter = document.getElementById(`${el.id}-count`);
    if (!max || !counter) return;
    const length = el.value.length;
    const over = length - max;
    const entry = reportFor(el.name);
    const cut = entry && entry.overflow ? cutFor(entry) : 0;
    let text = `${length} / ${max} characters`;
    if (over > 0) text += `: ${over} too many`;
    else if (cut > 0) text += `: about ${length - cut} fit, ${cut} too many for the box`;
    counter.textContent = text;
    counter.classList.toggle('over', over > 0 || cut > 0);
  }

  function fitMessage(entry) {
    if (entry.status === 'shrunk')
      return `Will shrink to ${entry.size} pt (from ${entry.preferredSize} pt) to fit.`;
    if (entry.status === 'overflow')
      return `Too long by about ${cutFor(entry)} characters: it does not fit even at ${entry.size} pt.`;
    return '';
  }

  /** What stands between the rep and a download, in words; empty when nothing does. */
  function blockers() {
    const missing = [];
    for (const el of controls()) {
      if (el.required && el.value.trim() === '') missing.push(labelOf(el.name));
    }
    const fix = [];
    for (const p of found.problems) {
      const what = p.field ? labelOf(p.field) : p.message;
      if (!fix.includes(what) && !missing.includes(what)) fix.push(what);
    }
    const parts = [];
    if (missing.length) parts.push(`fill in ${missing.join(', ')}`);
    if (fix.length) parts.push(`fix ${fix.join('; ')}`);
    return parts.length ? `To download, ${parts.join(', and ')}.` : '';
  }

  function updateDownload() {
    if (!download) return;
    const reason = blockers();
    download.disabled = reason !== '';
    downloadReason.textContent = reason;
  }

  function showOverflow() {
    for (const box of sheet.querySelectorAll('.overflow-box')) box.remove();
    overflowList.replaceChildren();
    for (const entry of found.overflow) {
      const item = document.createElement('li');
      const pageName = document.querySelector(`.pages button[data-page="${entry.page}"]`);
      item.textContent = `${entry.label} does not fit${pageName ? ` (${pageName.textContent.replace(/\s+/g, ' ').trim()})` : ''}: about ${cutFor(entry)} characters too many.`;
      overflowList.append(item);
      if (entry.page !== page) continue;
      const box = document.createElement('div');
      box.className = 'overflow-box';
      box.setAttribute('aria-hidden', 'true');
      box.style.left = `${entry.box.left}%`;
      box.style.top = `${entry.box.top}%`;
      box.style.width = `${entry.box.width}%`;
      box.style.height = `${entry.box.height}%`;
      const tag = document.createElement('span');
      tag.textContent = `${entry.label}: too long`;
      box.append(tag);
      sheet.append(box);
    }
  }

  function showFeedback() {
    for (const el of form.querySelectorAll('.fit')) {
      el.textContent = '';
      el.className = 'fit';
    }
    for (const entry of found.report) {
      if (!entry.field) continue;
      const el = byName(`fields.${entry.field}`, 'fit');
      if (!el) continue;
      el.textContent = fitMessage(entry);
      el.classList.add(entry.status);
    }
    const errors = new Map();
    const general = [];
    for (const p of found.problems) {
      // Problems with no control of their own (an element, the rep's details) are said above the form.
      if (!p.field || !form.querySelector(`[data-field="${p.field}"]`)) general.push(`${p.message}.`);
      // Overflow is already said by the fit line under the field.
      else if (p.rule !== 'overflow') errors.set(p.field, [...(errors.get(p.field) || []), p.text]);
    }
    for (const field of form.querySelectorAll('[data-field]')) {
      const name = field.dataset.field;
      const el = byName(name, 'error');
      const input = document.getElementById(idOf(name));
      const messages = touched.has(name) ? errors.get(name) || [] : [];
      if (el) {
        el.replaceChildren(
          ...messages.map((message) => {
            const p = document.createElement('p');
            p.textContent = message;
            return p;
          }),
        );
      }
      field.classList.toggle('has-error', messages.length > 0);
      if (input) {
        if (messages.length) input.setAttribute('aria-invalid', 'true');
        else input.removeAttribute('aria-invalid');
      }
    }
    formStatus.textContent = general.join(' ');
    for (const el of form.querySelectorAll('[data-max]')) updateCounter(el);
    showOverflow();
    updateDownload();
  }

  async function refresh() {
    const mine = ++sequence;
    if (controller) controller.abort();
    controller = new AbortController();
    image.classList.add('stale');
    let response;
    let body;
    try {
      response = await fetch(form.dataset.preview, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ version, page, zoom: ZOOMS[zoom], values: values() }),
        signal: controller.signal,
      });
      body = await response.json();
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (mine === sequence)
        previewStatus.textContent = 'The preview could not be loaded; it will retry as you type.';
      return;
    }
    // A newer request was sent meanwhile: this answer is stale.
    if (mine !== sequence) return;
    if (response.status === 401) {
      window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
      return;
    }
    found = { problems: body.problems || [], overflow: body.overflow || [], report: body.report || [] };
    showFeedback();
    // A refused value is previewed by its placeholder, and its problem said beside its field.
    if (body.image) {
      image.src = body.image;
      image.alt = `Preview of page ${page} with your details`;
      image.hidden = false;
      image.classList.remove('stale');
      image.dataset.sequence = String(mine);
      previewed = true;
      previewStatus.textContent =
        response.status === 422
          ? 'Details that need fixing show by their name until they are fixed.'
          : controls().some((el) => el.required && el.value.trim() === '')
            ? 'Until you fill in every detail, the preview shows each empty one by its name.'
            : '';
    } else if (response.status === 422) {
      previewStatus.textContent = previewed
        ? 'The preview is paused until the details marked below are fixed.'
        : 'The preview will show once the details marked below are fixed.';
    } else {
      previewStatus.textContent = body.message || 'The preview is unavailable right now.';
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  function showPage(number) {
    if (number === page) return;
    page = number;
    for (const button of document.querySelectorAll('.pages button[data-page]'))
      button.setAttribute('aria-pressed', String(Number(button.dataset.page) === page));
    refresh();
  }

  form.addEventListener('input', (event) => {
    const el = event.target;
    if (!el.name) return;
    touched.add(el.name);
    updateCounter(el);
    updateDownload();
    save();
    schedule();
  });

  // The preview turns to the page of the field being edited (the postcard's message is on its back).
  form.addEventListener('focusin', (event) => {
    const field = event.target.closest('[data-field]');
    const pages = field && field.dataset.pages ? field.dataset.pages.split(' ').map(Number) : [];
    if (pages.length && !pages.includes(page)) showPage(pages[0]);
  });

  // Downloads without leaving the page, so the piece in progress is cleared only once it is made;
  // a refusal posts the form as without scripts, and the page comes back with its problems listed.
  form.addEventListener('submit', async (event) => {
    if (form.dataset.posting === 'true') return;
    event.preventDefault();
    for (const field of form.querySelectorAll('[data-field]')) touched.add(field.dataset.field);
    let response;
    try {
      response = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) });
    } catch {
      formStatus.textContent = 'The PDF could not be made: check your connection and try again.';
      return;
    }
    if (!response.ok || !/application\/pdf/.test(response.headers.get('content-type') || '')) {
      form.dataset.posting = 'true';
      form.submit();
      return;
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') || '');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await response.blob());
    link.download = name ? name[1] : 'piece.pdf';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    sessionStorage.removeItem(STORAGE_KEY);
    document.getElementById('restored').hidden = true;
    formStatus.textContent = '';
    previewStatus.textContent = 'Downloaded. Your piece is in My pieces.';
  });

  document.getElementById('start-over').addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE_KEY);
    form.reset();
    touched.clear();
    document.getElementById('restored').hidden = true;
    refresh();
  });

  for (const button of document.querySelectorAll('.pages button[data-page]')) {
    button.addEventListener('click', () => showPage(Number(button.dataset.page)));
  }

  const level = document.getElementById('zoom-level');
  for (const button of document.querySelectorAll('[data-zoom]')) {
    button.hidden = false;
    button.addEventListener('click', () => {
      zoom = Math.min(ZOOMS.length - 1, Math.max(0, zoom + Number(button.dataset.zoom)));
      sheet.style.width = `${ZOOMS[zoom] * 100}%`;
      level.textContent = `${ZOOMS[zoom] * 100}%`;
      // Drawn again with more pixels, so zoomed text stays sharp.
      if (previewed) refresh();
      for (const other of document.querySelectorAll('[data-zoom]'))
        other.disabled =
          (Number(other.dataset.zoom) < 0 && zoom === 0) ||
          (Number(other.dataset.zoom) > 0 && zoom === ZOOMS.length - 1);
    });
  }
  level.hidden = false;
  document.querySelector('[data-zoom="-1"]').disabled = true;

  for (const input of form.querySelectorAll('input[type=file][data-image-for]')) {
    input.addEventListener('change', async () => {
      const name = input.dataset.imageFor;
      const error = byName(name, 'error');
      const file = input.files && input.files[0];
      if (!file) return;
      const data = new FormData();
      data.append('image', file);
      error.textContent = 'Uploading…';
      try {
        const response = await fetch('/uploads', {
          method: 'POST',
          headers: { 'x-csrf-token': csrf },
          body: data,
        });
        const body = await response.json();
        if (!response.ok) {
          error.textContent = body.problems && body.problems.length ? body.problems[0].message : body.message;
          return;
        }
        form.elements.namedItem(name).value = body.ref;
        error.textContent = '';
        touched.add(name);
        save();
        refresh();
      } catch {
        error.textContent = 'The image could not be uploaded.';
      }
    });
  }

  // Errors the server already showed stay shown.
  for (const field of form.querySelectorAll('[data-field].has-error')) touched.add(field.dataset.field);
  restore();
  previewStatus.textContent = 'Loading the preview…';
  for (const el of form.querySelectorAll('[data-max]')) updateCounter(el);
  updateDownload();
  refresh();
})();
