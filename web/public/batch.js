// Batch jobs: the list's columns mapped to the template, the preflight, the start, and live progress
// (server-sent events) on a job's own page. Plain browser script, no build step.
(function () {
  'use strict';
  /**
   * The columns need only the start of a list: its header, and the first 64 KiB the encoding and
   * delimiter are detected from. Sending no more keeps remapping a large list quick.
   */
  const COLUMN_BYTES = 1024 * 1024;

  /** Shows a job's progress in a `_progress` block. */
  function showProgress(root, job) {
    const bar = root.querySelector('progress');
    bar.max = Math.max(job.total || 0, 1);
    bar.value = job.done;
    const text = {
      state: job.waiting ? `waiting: ${job.waiting}` : job.state,
      done: `${job.done} of ${job.total}`,
      rendered: String(job.rendered),
      rejected: String(job.rejected),
      heldOut: String(job.heldOut),
      rate: job.rate ? `${job.rate} rows/s` : '–',
      eta: job.etaSeconds ? `about ${job.etaSeconds} s` : '–',
    };
    for (const [key, value] of Object.entries(text)) {
      // Held out shows only for a job that holds rows out.
      const shown = root.querySelector(`[data-k="${key}"]`);
      if (shown) shown.textContent = value;
    }
  }

  /** Follows a job's events until its `end`; the browser reconnects by itself if the stream drops. */
  function watch(url, onProgress, onEnd) {
    const source = new EventSource(url);
    source.addEventListener('progress', (event) => onProgress(JSON.parse(event.data)));
    source.addEventListener('end', (event) => {
      source.close();
      onEnd(JSON.parse(event.data));
    });
    return source;
  }

  // A job's page: live progress, then the page again for its results.
  const jobSection = document.getElementById('job');
  if (jobSection && jobSection.hasAttribute('data-live')) {
    const progress = jobSection.querySelector('[data-progress]');
    watch(
      jobSection.dataset.events,
      (job) => showProgress(progress, job),
      (job) => {
        showProgress(progress, job);
        window.location.reload();
      },
    );
  }

  // Cancel asks first: in a dialog here, on a page of its own without the script.
  const cancelLink = document.getElementById('cancel-job');
  const cancelDialog = document.getElementById('cancel-dialog');
  if (cancelLink && cancelDialog && typeof cancelDialog.showModal === 'function') {
    cancelLink.addEventListener('click', (event) => {
      event.preventDefault();
      cancelDialog.showModal();
    });
    cancelDialog.querySelector('[data-close]').addEventListener('click', () => cancelDialog.close());
    // Focus goes back where it was when the dialog closes.
    cancelDialog.addEventListener('close', () => cancelLink.focus());
  }

  // A refused fix: its problems are announced and focused, above the form.
  const fixProblems = document.getElementById('fix-problems');
  if (fixProblems) fixProblems.focus();

  const form = document.getElementById('batch-form');
  if (!form) return;
  const csrf = form.elements.namedItem('_csrf').value;
  const template = document.getElementById('batch-template');
  const rep = document.getElementById('batch-rep');
  const file = document.getElementById('batch-csv');
  const csvError = document.getElementById('batch-csv-error');
  const repError = document.getElementById('batch-rep-error');
  const mapping = document.getElementById('mapping');
  const mappingRows = document.getElementById('mapping-rows');
  const mappingStatus = document.getElementById('mapping-status');
  const checkButton = document.getElementById('check-list');
  const preflight = document.getElementById('preflight');
  const preflightProgress = preflight.querySelector('[data-progress]');
  const summary = document.getElementById('preflight-summary');
  const failures = document.getElementById('preflight-failures');
  const start = document.getElementById('start');
  const startButton = document.getElementById('start-run');
  const startStatus = document.getElementById('start-status');
  const splitChoice = document.getElementById('experiment-split');
  const recipientChoice = document.getElementById('experiment-recipient');
  const holdout = document.getElementById('experiment-holdout');
  const sampleHelp = document.getElementById('sample-list-help');
  const sampleLink = document.getElementById('sample-list');
  const savedNote = document.getElementById('mapping-saved');
  const previewButton = document.getElementById('preview-first');
  const firstPiece = document.getElementById('first-piece');
  const firstPieceStatus = document.getElementById('first-piece-status');
  const firstPiecePages = document.getElementById('first-piece-pages');
  const firstPieceImage = document.getElementById('first-piece-image');
  const firstPieceCaption = document.getElementById('first-piece-caption');
  /** Where the page's set-up is kept across a reload: the choices, never the list itself. */
  const SETUP = 'platen.batch.setup';
  /** The saved mapping is offered once per list; "match automatically" turns it down. */
  let savedDeclined = false;
  /** Choices restored after a reload, applied once the list's columns (their options) are known. */
  let restored = readSetup();
  /** The last columns the server answered: the template version and the mapping shown. */
  let columns = null;
  /** Requests answered out of order are dropped: only the latest counts. */
  let sequence = 0;
  let source = null;

  function problemText(body) {
    const problems = body.problems || [];
    if (problems.length === 0) return body.message || 'Something went wrong; try again.';
    // A path is for programs: people read the input's label (from the columns shown), or nothing.
    const labels = new Map(
      ((columns && columns.inputs) || []).map((input) => [`prospect.${input.key}`, input.label]),
    );
    return problems
      .map((p) => {
        const label = labels.get(p.path);
        const text = label && !p.message.startsWith(label) ? `${label}: ${p.message}` : p.message;
        return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
      })
      .join(' ');
  }

  async function post(url, data) {
    const response = await fetch(url, { method: 'POST', headers: { 'x-csrf-token': csrf }, body: data });
    if (response.status === 401) {
      window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
      return null;
    }
    return { ok: response.ok, body: await response.json() };
  }

  /** `Header=input` for every input a column feeds, as the selects show it. */
  function mapEntries() {
    const entries = [];
    for (const select of mappingRows.querySelectorAll('select')) {
      if (select.value !== '') entries.push(`${select.value}=${select.dataset.input}`);
    }
    return entries;
  }

  /** The list and choices of the page as a request; only the start of the list for its columns. */
  function listData(whole) {
    const data = new FormData();
    const chosen = file.files[0];
    data.set('csv', whole ? chosen : chosen.slice(0, COLUMN_BYTES), chosen.name);
    data.set('templateId', template.value);
    if (columns) data.set('version', String(columns.version));
    for (const entry of mapEntries()) data.append('map', entry);
    if (rep && rep.value !== '') data.set('repId', rep.value);
    return data;
  }

  /** Anything changed after a preflight makes it stale: check again before starting. */
  function resetPreflight() {
    if (source) source.close();
    source = null;
    preflight.hidden = true;
    start.hidden = true;
    failures.hidden = true;
    summary.textContent = '';
    startStatus.textContent = '';
    if (repError) repError.textContent = '';
  }

  async function loadColumns(keepMapping) {
    resetPreflight();
    // The first piece shown is of another list, mapping or template now.
    firstPiece.hidden = true;
    csvError.textContent = '';
    if (!keepMapping) {
      columns = null;
      mappingRows.replaceChildren();
      savedNote.hidden = true;
    }
    sampleHelp.hidden = template.value === '';
    sampleLink.href = `/batch/sample.csv?template=${encodeURIComponent(template.value)}`;
    if (template.value === '' || !file.files[0]) {
      mapping.hidden = true;
      keepSetup();
      return;
    }
    const mine = ++sequence;
    checkButton.disabled = true;
    let reply;
    try {
      reply = await post(form.dataset.columns, listData(false));
    } catch {
      reply = { ok: false, body: { message: 'The list could not be sent; try again.' } };
    }
    if (!reply || mine !== sequence) return;
    if (!reply.ok) {
      const problems = reply.body.problems || [];
      if (!keepMapping || problems.some((p) => p.path === 'csv')) {
        mapping.hidden = true;
        csvError.textContent = problemText(reply.body);
      } else mappingStatus.textContent = problemText(reply.body);
      return;
    }
    columns = reply.body;
    showColumns(columns);
    // The columns chosen before a reload, or last time for this template, in place of the automatic ones.
    const chosen = restoredMap() || (!keepMapping && !savedDeclined ? columns.saved : null);
    if (chosen && applyMap(chosen)) {
      savedNote.hidden = chosen !== columns.saved;
      await loadColumns(true);
      return;
    }
    applyRestored();
    keepSetup();
  }

  /** Sets the selects from header → input entries; false if that changes nothing. */
  function applyMap(map) {
    let changed = false;
    const headers = Object.keys(map).filter((h) => columns.headers.includes(h));
    for (const select of mappingRows.querySelectorAll('select')) {
      const header = headers.find((h) => map[h] === select.dataset.input);
      // A column feeds one input: one the map gives another input is taken from this one.
      const value = header ?? (headers.includes(select.value) ? '' : select.value);
      if (value !== select.value) changed = true;
      select.value = value;
    }
    return changed;
  }

  /** The mapping kept across a reload, once, for the template it was kept for. */
  function restoredMap() {
    if (!restored || restored.templateId !== template.value || !restored.map) return null;
    const map = restored.map;
    restored.map = null;
    return Object.keys(map).length > 0 ? map : null;
  }

  function readSetup() {
    try {
      return JSON.parse(sessionStorage.getItem(SETUP) || 'null');
    } catch {
      return null;
    }
  }

  /** Keeps the page's choices for a reload (the list itself cannot be kept: the browser forgets files). */
  function keepSetup() {
    const map = {};
    for (const entry of mapEntries()) {
      const at = entry.lastIndexOf('=');
      map[entry.slice(0, at)] = entry.slice(at + 1);
    }
    const output = document.querySelector('input[name="output"]:checked');
    const setup = {
      templateId: template.value,
      repId: rep ? rep.value : '',
      map: columns ? map : (restored && restored.map) || null,
      output: output ? output.value : 'pdf',
      split: splitChoice.value,
      holdout: holdout.value,
      recipientColumn: recipientChoice.value,
    };
    try {
      sessionStorage.setItem(SETUP, JSON.stringify(setup));
    } catch {
      // Storage may be off or full: the page works without it.
    }
  }

  /** Choices that need the columns' options: applied once they are there. */
  function applyRestored() {
    if (!restored || restored.templateId !== template.value) return;
    for (const [select, value] of [
      [splitChoice, restored.split],
      [recipientChoice, restored.recipientColumn],
    ])
      if (value && [...select.options].some((o) => o.value === value)) select.value = value;
    restored = null;
  }

  function showColumns(found) {
    mapping.hidden = false;
    const delimiter = { ',': 'commas', ';': 'semicolons', '\t': 'tabs' }[found.delimiter];
    document.getElementById('mapping-found').textContent =
      `${found.headers.length} columns found (${found.encoding}, separated by ${delimiter}).`;
    const rows = found.inputs.map((input) => {
      const id = `map-${input.key}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = input.label;
      if (input.required) label.append(' (required)');
      const select = document.createElement('select');
      select.id = id;
      select.dataset.input = input.key;
      select.append(new Option('(no column)', ''));
      for (const header of found.headers) select.append(new Option(header, header));
      select.value = input.column || '';
      if (found.missingRequired.includes(input.key)) select.setAttribute('aria-invalid', 'true');
      const name = document.createElement('th');
      name.scope = 'row';
      name.append(label);
      const cell = document.createElement('td');
      cell.dataset.label = 'CSV column';
      cell.append(select);
      const values = document.createElement('td');
      values.className = 'samples';
      values.dataset.label = 'First values';
      values.id = `${id}-samples`;
      select.setAttribute('aria-describedby', values.id);
      showSamples(values, found, select.value);
      const row = document.createElement('tr');
      row.append(name, cell, values);
      return row;
    });
    mappingRows.replaceChildren(...rows);
    const labels = new Map(found.inputs.map((input) => [input.key, input.label]));
    if (found.problems.length > 0) mappingStatus.textContent = problemText(found);
    else if (found.missingRequired.length > 0)
      mappingStatus.textContent = `No column feeds ${found.missingRequired
        .map((key) => labels.get(key))
        .join(', ')}: choose one for each before checking the list.`;
    else mappingStatus.textContent = '';
    document.getElementById('mapping-unused').textContent =
      found.unused.length > 0 ? `Not used: ${found.unused.join(', ')}.` : '';
    checkButton.disabled = found.problems.length > 0 || found.missingRequired.length > 0;
    previewButton.disabled = checkButton.disabled;
    showExperiment(found);
  }

  /** The first values of the column a select has chosen, as the list has them. */
  function showSamples(cell, found, header) {
    const values = header === '' ? [] : found.samples[header] || [];
    cell.replaceChildren(
      ...(values.length === 0
        ? [
            Object.assign(document.createElement('span'), {
              className: 'help',
              textContent: header === '' ? '—' : '(empty)',
            }),
          ]
        : values.map((value) =>
            Object.assign(document.createElement('span'), { className: 'sample-value', textContent: value }),
          )),
    );
  }

  /** The experiment's choices: the template's inputs with choices, and the list's columns. */
  function showExperiment(found) {
    const keep = (select, options) => {
      const chosen = select.value;
      select.replaceChildren(select.options[0], ...options);
      select.value = options.some((option) => option.value === chosen) ? chosen : '';
    };
    keep(
      splitChoice,
      found.choices.map(
        (choice) => new Option(`${choice.label} (${choice.choices.length} choices)`, choice.path),
      ),
    );
    keep(
      recipientChoice,
      found.headers.map((header) => new Option(`The column “${header}”`, header)),
    );
  }

  async function runPreflight() {
    resetPreflight();
    checkButton.disabled = true;
    const reply = await post(form.dataset.jobs, withOutput(listData(true), 'check')).catch(() => null);
    checkButton.disabled = false;
    if (!reply) return;
    if (!reply.ok) {
      showStartProblems(reply.body, mappingStatus);
      return;
    }
    preflight.hidden = false;
    showProgress(preflightProgress, reply.body);
    summary.textContent = 'Checking every row…';
    source = watch(
      reply.body.links.events,
      (job) => showProgress(preflightProgress, job),
      (job) => {
        source = null;
        showProgress(preflightProgress, job);
        showSummary(job);
      },
    );
  }

  function withOutput(data, output) {
    data.set('output', output);
    return data;
  }

  function showStartProblems(body, status) {
    status.textContent = problemText(body);
    const repProblem = (body.problems || []).find((p) => p.path === 'repId');
    if (repError && repProblem) {
      repError.textContent = repProblem.message;
      rep.focus();
    }
  }

  async function showSummary(job) {
    if (job.state !== 'done') {
      summary.textContent = job.error ? `The check failed: ${job.error}` : `The check was ${job.state}.`;
      return;
    }
    const rows = (n) => `${n} row${n === 1 ? '' : 's'}`;
    summary.textContent = `${rows(job.rendered)} of ${job.total} will render; ${rows(job.rejected)} ${
      job.rejected === 1 ? 'fails' : 'fail'
    }.`;
    start.hidden = job.rendered === 0;
    if (job.rejected === 0) return;
    const response = await fetch(job.links.rejections);
    if (!response.ok) return;
    const report = await response.json();
    const body = failures.querySelector('tbody');
    body.replaceChildren(
      ...report.lines.map((line) => {
        const row = document.createElement('tr');
        const problem = `${line.message.charAt(0).toUpperCase()}${line.message.slice(1)}`;
        const values = { Row: line.row, Column: line.column, Problem: problem, Value: line.value };
        row.append(
          ...Object.entries(values).map(([label, value]) => {
            const cell = document.createElement('td');
            cell.dataset.label = label;
            cell.textContent = String(value);
            return cell;
          }),
        );
        return row;
      }),
    );
    const more = report.total - report.lines.length;
    document.getElementById('preflight-more').textContent =
      more > 0 ? `And ${more} more in the error report.` : '';
    document.getElementById('preflight-report').href = job.links.errors;
    failures.hidden = false;
  }

  async function startRun() {
    startButton.disabled = true;
    startStatus.textContent = '';
    const output = document.querySelector('input[name="output"]:checked').value;
    const data = withOutput(listData(true), output);
    for (const field of [splitChoice, recipientChoice, holdout])
      if (field.value !== '') data.set(field.name, field.value);
    const reply = await post(form.dataset.jobs, data).catch(() => null);
    startButton.disabled = false;
    if (!reply) return;
    if (!reply.ok) {
      showStartProblems(reply.body, startStatus);
      return;
    }
    window.location.assign(reply.body.links.page);
  }

  /** The first row's piece, one page at a time, as the run would print it. */
  async function previewFirst(page) {
    firstPiece.hidden = false;
    firstPieceStatus.textContent = '';
    firstPieceImage.classList.add('stale');
    previewButton.disabled = true;
    const reply = await post(`/batch/preview?page=${page}`, listData(false)).catch(() => ({
      ok: false,
      body: { message: 'The preview could not be made; try again.' },
    }));
    previewButton.disabled = false;
    if (!reply) return;
    firstPieceImage.classList.remove('stale');
    if (!reply.ok) {
      firstPieceImage.hidden = true;
      firstPieceCaption.textContent = '';
      firstPiecePages.replaceChildren();
      firstPieceStatus.textContent = `Row 1 cannot be previewed. ${problemText(reply.body)}`;
      return;
    }
    firstPieceImage.hidden = false;
    firstPieceImage.src = reply.body.image;
    firstPieceImage.alt = `Row 1's piece, page ${page} of ${reply.body.pages}`;
    firstPieceCaption.textContent =
      reply.body.problems.length > 0
        ? `Page ${page} of ${reply.body.pages}. Row 1 would be rejected: ${problemText(reply.body)}`
        : `Page ${page} of ${reply.body.pages}.`;
    firstPiecePages.replaceChildren(
      ...Array.from({ length: reply.body.pages }, (_, i) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = `Page ${i + 1}`;
        button.setAttribute('aria-pressed', String(i + 1 === page));
        button.addEventListener('click', () => previewFirst(i + 1));
        return button;
      }),
    );
  }

  for (const choice of [template, file])
    choice.addEventListener('change', () => {
      savedDeclined = false;
      loadColumns(false);
    });
  if (rep)
    rep.addEventListener('change', () => {
      resetPreflight();
      firstPiece.hidden = true;
      keepSetup();
    });
  mappingRows.addEventListener('change', (event) => {
    const changed = event.target;
    // A column feeds one input: choosing it for one takes it from any other.
    for (const select of mappingRows.querySelectorAll('select')) {
      if (select !== changed && changed.value !== '' && select.value === changed.value) select.value = '';
    }
    showSamples(document.getElementById(`${changed.id}-samples`), columns, changed.value);
    savedNote.hidden = true;
    loadColumns(true);
  });
  document.getElementById('mapping-automatic').addEventListener('click', () => {
    savedDeclined = true;
    loadColumns(false);
  });
  for (const field of [
    splitChoice,
    recipientChoice,
    holdout,
    ...document.querySelectorAll('input[name="output"]'),
  ])
    field.addEventListener('change', keepSetup);
  checkButton.addEventListener('click', runPreflight);
  previewButton.addEventListener('click', () => previewFirst(1));
  startButton.addEventListener('click', startRun);

  // The set-up kept before a reload: the template, rep and options now; the mapping with the list.
  if (restored) {
    const has = (select, value) => value && [...select.options].some((o) => o.value === value);
    if (has(template, restored.templateId)) template.value = restored.templateId;
    if (rep && has(rep, restored.repId)) rep.value = restored.repId;
    const output = document.getElementById(`output-${restored.output}`);
    if (output) output.checked = true;
    if (restored.holdout) holdout.value = restored.holdout;
    sampleHelp.hidden = template.value === '';
    sampleLink.href = `/batch/sample.csv?template=${encodeURIComponent(template.value)}`;
  }
  // A file chosen before a reload is still selected: show its columns.
  if (file.files[0]) loadColumns(false);
})();
