// The template form: live preview, fit feedback, character counters and image uploads.
// Plain browser script, no build step; the page works without it (the form still posts).
(function () {
  'use strict';
  const form = document.getElementById('piece-form');
  if (!form) return;
  const csrf = form.elements.namedItem('_csrf').value;
  const version = Number(form.dataset.version);
  const image = document.getElementById('preview-image');
  const previewStatus = document.getElementById('preview-status');
  const formStatus = document.getElementById('form-status');
  const DEBOUNCE_MS = 300;
  /** Field names the user has changed: only their problems are shown while typing. */
  const touched = new Set();
  let page = 1;
  let sequence = 0;
  let controller = null;
  let timer = null;
  let previewed = false;

  const byName = (name, suffix) => document.getElementById(`in-${name.replace('.', '-')}-${suffix}`);

  function values() {
    const out = {};
    for (const el of form.elements) {
      if (!/^(rep|prospect|fields)\./.test(el.name)) continue;
      if (el.type === 'checkbox') {
        if (el.checked) out[el.name] = 'true';
      } else out[el.name] = el.value;
    }
    return out;
  }

  function updateCounter(el) {
    const max = Number(el.dataset.max);
    const counter = document.getElementById(`${el.id}-count`);
    if (!max || !counter) return;
    const over = el.value.length - max;
    counter.textContent =
      over > 0
        ? `${el.value.length} / ${max} characters: ${over} too many`
        : `${el.value.length} / ${max} characters`;
    counter.classList.toggle('over', over > 0);
  }

  function fitMessage(entry) {
    if (entry.status === 'shrunk')
      return `Will shrink to ${entry.size} pt (from ${entry.preferredSize} pt) to fit.`;
    if (entry.status === 'overflow')
      return `Too long by about ${entry.overflow.chars} characters: it does not fit even at ${entry.size} pt.`;
    return '';
  }

  function showFeedback(report, problems) {
    for (const el of form.querySelectorAll('.fit')) {
      el.textContent = '';
      el.className = 'fit';
    }
    for (const entry of report) {
      if (!entry.field) continue;
      const el = byName(`fields.${entry.field}`, 'fit');
      if (!el) continue;
      el.textContent = fitMessage(entry);
      el.classList.add(entry.status);
    }
    const errors = new Map();
    const general = [];
    for (const p of problems) {
      const match = /^(rep|prospect|fields)\.([A-Za-z][A-Za-z0-9_]*)/.exec(p.path);
      // Problems with no control of their own (an element, the rep's profile details) are listed.
      if (!match || !form.querySelector(`[data-field="${match[0]}"]`))
        general.push(`${p.path}: ${p.message}.`);
      // Overflow is already said by the fit line under the field.
      else if (p.rule !== 'overflow') errors.set(match[0], p.message);
    }
    let hidden = 0;
    for (const field of form.querySelectorAll('[data-field]')) {
      const name = field.dataset.field;
      const el = byName(name, 'error');
      const input = document.getElementById(`in-${name.replace('.', '-')}`);
      const message = errors.get(name);
      const show = message !== undefined && touched.has(name);
      if (message !== undefined && !show) hidden += 1;
      if (el) el.textContent = show ? message : '';
      field.classList.toggle('has-error', show);
      if (input) {
        if (show) input.setAttribute('aria-invalid', 'true');
        else input.removeAttribute('aria-invalid');
      }
    }
    const parts = [...general];
    if (hidden > 0)
      parts.push(`${hidden} more detail${hidden === 1 ? '' : 's'} to fill in before the piece is complete.`);
    formStatus.textContent = parts.join(' ');
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
        body: JSON.stringify({ version, page, values: values() }),
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
    showFeedback(body.report || [], body.problems || []);
    if (response.ok) {
      image.src = body.image;
      image.alt = `Preview of page ${page} with your details`;
      image.hidden = false;
      image.classList.remove('stale');
      image.dataset.sequence = String(mine);
      previewed = true;
      previewStatus.textContent = '';
    } else if (response.status === 422) {
      previewStatus.textContent = previewed
        ? 'The preview is paused until the details below are fixed.'
        : 'Showing a sample until your details are complete.';
    } else {
      previewStatus.textContent = body.message || 'The preview is unavailable right now.';
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  form.addEventListener('input', (event) => {
    const el = event.target;
    if (!el.name) return;
    touched.add(el.name);
    updateCounter(el);
    schedule();
  });

  form.addEventListener('submit', () => {
    for (const field of form.querySelectorAll('[data-field]')) touched.add(field.dataset.field);
  });

  for (const button of document.querySelectorAll('.pages button[data-page]')) {
    button.addEventListener('click', () => {
      page = Number(button.dataset.page);
      for (const other of document.querySelectorAll('.pages button[data-page]'))
        other.setAttribute('aria-pressed', String(other === button));
      refresh();
    });
  }

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
        refresh();
      } catch {
        error.textContent = 'The image could not be uploaded.';
      }
    });
  }

  // Errors the server already showed stay shown.
  for (const field of form.querySelectorAll('[data-field].has-error')) touched.add(field.dataset.field);
  for (const el of form.querySelectorAll('[data-max]')) updateCounter(el);
  refresh();
})();
