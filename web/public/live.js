// Search and filters that answer as you type, and the gallery's quick look in a dialog. Both are
// plain links and GET forms without scripts; this only makes them quicker. No build step.
(function () {
  'use strict';

  /** A page of this site, parsed; null if it did not come. */
  async function fetchPage(url, signal) {
    const res = await fetch(url, { signal, headers: { accept: 'text/html' } });
    if (!res.ok) return null;
    return new DOMParser().parseFromString(await res.text(), 'text/html');
  }

  /**
   * A GET form with `data-live="<id>"` fetches its own results as its fields change and swaps the
   * element of that id (and its count, `<id>-count`), keeping the address in step so a reload or a
   * shared link shows the same.
   */
  for (const form of document.querySelectorAll('form[data-live]')) {
    const id = form.dataset.live;
    let timer = 0;
    let pending = null;
    const update = async () => {
      const url = new URL(form.action, location.href);
      url.search = new URLSearchParams(new FormData(form)).toString();
      pending?.abort();
      pending = new AbortController();
      try {
        const page = await fetchPage(url, pending.signal);
        const fresh = page?.getElementById(id);
        if (!fresh) return form.submit();
        document.getElementById(id).replaceWith(fresh);
        const count = document.getElementById(`${id}-count`);
        if (count) count.textContent = page.getElementById(`${id}-count`)?.textContent ?? '';
        history.replaceState(null, '', url);
      } catch (error) {
        if (error.name !== 'AbortError') form.submit();
      }
    };
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(update, 150);
    };
    form.addEventListener('input', soon);
    form.addEventListener('change', soon);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearTimeout(timer);
      update();
    });
  }

  /** A quick look opens over the gallery; Escape or Close returns to where it was opened from. */
  let dialog = null;
  document.addEventListener('click', async (event) => {
    const link = event.target.closest?.('a[data-quick-look]');
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    const page = await fetchPage(link.href).catch(() => null);
    const look = page?.getElementById('quick-look');
    if (!look) return location.assign(link.href);
    if (!dialog) {
      dialog = document.createElement('dialog');
      dialog.className = 'quick-look-dialog';
      dialog.setAttribute('aria-labelledby', 'quick-look-h');
      dialog.addEventListener('click', (e) => {
        // A click on the backdrop (the dialog itself, outside its content) closes it.
        if (e.target === dialog) dialog.close();
      });
      document.body.append(dialog);
    }
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'quick-look-close';
    close.textContent = 'Close';
    close.addEventListener('click', () => dialog.close());
    dialog.replaceChildren(close, look);
    dialog.showModal();
  });
})();
