/**
 * Versions: Save makes a new draft version (then its changes are listed); Publish and Retire ask
 * first; Approve when the organisation requires it; Export and Import zips; Try as a rep.
 */
import type { Api } from './api.js';
import { h, section, inBackground } from './dom.js';
import type { Draft } from './state.js';

interface VersionInfo {
  templateId: string;
  version: number;
  state: string;
  approval: boolean;
}

export class Versions {
  readonly root = h('div', { class: 'd-versions' });
  private readonly status = h('p', { role: 'status', id: 'd-version-status' });
  private readonly changes = h('ul', { class: 'd-changes' });
  private readonly dialog = h('dialog', { class: 'd-confirm', 'aria-labelledby': 'd-confirm-h' });
  /** Whether the draft differs from the version the page opened. */
  dirty: boolean;

  constructor(
    private readonly draft: Draft,
    private readonly api: Api,
    private readonly info: VersionInfo,
    private readonly save: () => Promise<
      { version: number } | { problems: { message: string }[]; message?: string }
    >,
    /** Why this draft cannot be published as it is, in words; null when it can. */
    private readonly blocker: () => string | null,
  ) {
    this.dirty = draft.restored;
  }

  draw(): void {
    const { templateId, version, state } = this.info;
    const id = encodeURIComponent(templateId);
    const button = (text: string, run: () => void, cls = '') =>
      h('button', { type: 'button', class: cls, text, onclick: run });
    this.root.replaceChildren(
      section(
        'Versions',
        h('p', { text: `Editing from version ${version} (${state}).` }),
        h(
          'div',
          { class: 'd-inline' },
          button('Save as a new draft version', () => inBackground(this.saveDraft()), 'primary'),
          ...(state !== 'published'
            ? [button(`Publish version ${version}`, () => this.confirm('publish'))]
            : []),
          ...(state !== 'retired' ? [button(`Retire version ${version}`, () => this.confirm('retire'))] : []),
          ...(this.info.approval && state === 'draft'
            ? [button(`Approve version ${version}`, () => inBackground(this.act('approve')))]
            : []),
          h('a', { href: `/designer/${id}/${version}/package.zip`, text: 'Export as zip' }),
          h('a', { href: '/designer#import-h', text: 'Import a zip' }),
          h('a', { href: `/make/${id}?version=${version}`, text: 'Try as a rep' }),
        ),
        this.status,
        h('h3', { text: `Changes in version ${version}` }),
        this.changes,
        this.dialog,
      ),
    );
    inBackground(this.loadChanges());
  }

  private async loadChanges(): Promise<void> {
    const changes = this.info.version > 1 ? await this.api.changes(this.info.version).catch(() => []) : [];
    this.changes.replaceChildren(
      ...(changes.length
        ? changes.map((c) =>
            h('li', { text: `${c.what} ${c.name} ${c.change}${c.detail ? `: ${c.detail}` : ''}` }),
          )
        : [h('li', { text: 'No changes listed.' })]),
    );
  }

  private async saveDraft(): Promise<void> {
    this.status.textContent = 'Saving…';
    const saved = await this.save();
    if ('version' in saved) {
      this.draft.forget();
      location.assign(`/designer/${encodeURIComponent(this.info.templateId)}/${saved.version}?saved=1`);
      return;
    }
    this.status.textContent = `Not saved: ${saved.problems.map((p) => p.message).join('; ') || saved.message}`;
  }

  private confirm(action: 'publish' | 'retire'): void {
    if (action === 'publish') {
      const why =
        this.blocker() ??
        (this.dirty
          ? 'it has unsaved changes: save them as a new version first, then publish that version.'
          : null);
      if (why) {
        this.status.textContent = `Version ${this.info.version} cannot be published: ${why}`;
        return;
      }
    }
    const verb = action === 'publish' ? 'Publish' : 'Retire';
    const consequence =
      action === 'publish'
        ? 'Reps will make pieces from it from now on.'
        : 'Reps will no longer be able to make pieces from it.';
    this.dialog.replaceChildren(
      h('h2', { id: 'd-confirm-h', text: `${verb} version ${this.info.version}?` }),
      h('p', { text: consequence }),
      h('button', {
        type: 'button',
        class: 'primary',
        text: `Yes, ${verb.toLowerCase()}`,
        onclick: () => {
          this.dialog.close();
          inBackground(this.act(action));
        },
      }),
      h('button', { type: 'button', text: 'Cancel', onclick: () => this.dialog.close() }),
    );
    this.dialog.showModal();
  }

  private async act(action: 'publish' | 'retire' | 'approve'): Promise<void> {
    const { ok, message } = await this.api.act(this.info.version, action);
    this.status.textContent = message;
    if (ok && action !== 'approve') {
      this.info.state = action === 'publish' ? 'published' : 'retired';
      const title = document.getElementById('d-version');
      if (title) title.textContent = `version ${this.info.version} (${this.info.state})`;
      const keep = this.status.textContent;
      this.draw();
      this.status.textContent = keep;
    }
  }
}
