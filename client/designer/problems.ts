/** Live check of the draft: every problem, naming its element or input; a click selects the element. */
import type { Api, DesignProblem, DraftBody } from './api.js';
import { debounce, h, section, inBackground } from './dom.js';
import type { Draft } from './state.js';

export class Problems {
  readonly root = h('div', { class: 'd-problems' });
  private readonly list = h('ul', { class: 'd-problem-list' });
  private readonly status = h('p', { role: 'status', id: 'd-check-status' });
  problems: DesignProblem[] = [];
  /** Whether the shown problems are those of the draft as it is now. */
  current = false;
  private running: AbortController | null = null;
  readonly refresh: () => void;

  constructor(
    private readonly draft: Draft,
    private readonly api: Api,
    private readonly body: () => DraftBody,
  ) {
    this.root.append(section('Problems', this.status, this.list));
    this.refresh = debounce(500, () => inBackground(this.check()));
  }

  /** A change makes the shown problems stale until the next check. */
  stale(): void {
    this.current = false;
    this.status.textContent = 'Checking…';
    this.refresh();
  }

  private async check(): Promise<void> {
    this.running?.abort();
    const abort = new AbortController();
    this.running = abort;
    try {
      const problems = await this.api.check(this.body(), abort.signal);
      if (abort.signal.aborted) return;
      this.show(problems);
    } catch (error) {
      if (!abort.signal.aborted)
        this.status.textContent = `The draft could not be checked: ${(error as Error).message}`;
    }
  }

  show(problems: DesignProblem[]): void {
    this.problems = problems;
    this.current = true;
    this.status.textContent =
      problems.length === 0
        ? 'No problems: this draft can be saved and published.'
        : `${problems.length} problem(s) to fix.`;
    this.list.replaceChildren(
      ...problems.map((p) => {
        const where = p.element
          ? `Element ${p.element}`
          : p.input
            ? `Input “${p.input}”`
            : p.page
              ? `Page ${p.page}`
              : 'Template';
        const text = `${where}: ${p.message}`;
        const element = p.element;
        // An input's panel is drawn anew on changes: its row is found when the problem is clicked.
        const inputRow = () =>
          p.input ? document.querySelector<HTMLElement>(`[data-input-label="${CSS.escape(p.input)}"]`) : null;
        return h(
          'li',
          {},
          inputRow()
            ? h('button', {
                type: 'button',
                class: 'link',
                text,
                onclick: () => inputRow()?.querySelector<HTMLElement>('select, input')?.focus(),
              })
            : element && this.draft.find(element)
              ? h('button', {
                  type: 'button',
                  class: 'link',
                  text,
                  onclick: () => {
                    this.draft.page = this.draft.find(element)!.pageIndex;
                    this.draft.select([element]);
                  },
                })
              : h('span', { text }),
        );
      }),
    );
  }
}
