// What every page shares, as a plain browser script (no build step); each page works without it.
// - Times: every <time datetime> is written in the viewer's own time zone and language.
// - Tables marked .table-cards: each cell learns its column's name, shown beside it on a phone.
// - The toast: dismissable, and gone once it has faded.
(function () {
  'use strict';

  // "Dec 6, 2026, 2:11 PM EST" in American English: the zone is named, as the time is the viewer's.
  const format = new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  });

  /** Times arrive in UTC ("2025-03-04 14:05 UTC"); the full instant stays in the title. */
  function localTimes(root) {
    for (const el of root.querySelectorAll('time[datetime]')) {
      if (el.dataset.local) continue;
      const at = new Date(el.dateTime);
      if (Number.isNaN(at.getTime())) continue;
      el.title = el.textContent;
      el.textContent = format.format(at);
      el.dataset.local = '1';
    }
  }

  function cardLabels(root) {
    for (const table of root.querySelectorAll('table.table-cards')) {
      const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
      for (const row of table.querySelectorAll('tbody tr')) {
        [...row.children].forEach((cell, i) => {
          if (!cell.hasAttribute('data-label') && heads[i]) cell.setAttribute('data-label', heads[i]);
        });
      }
    }
  }

  function toast() {
    const el = document.querySelector('[data-toast]');
    if (!el) return;
    const close = el.querySelector('.toast-close');
    close.hidden = false;
    close.addEventListener('click', () => el.remove());
    el.addEventListener('animationend', (event) => {
      if (event.animationName === 'toast-out') el.remove();
    });
  }

  function all(root) {
    localTimes(root);
    cardLabels(root);
  }

  all(document);
  toast();
  // Pages' scripts add rows and times as they go (a job's progress, a list read): those too.
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const node of change.addedNodes) if (node.nodeType === 1) all(node.parentElement ?? node);
  }).observe(document.body, { childList: true, subtree: true });
})();
