import { HttpError } from './problem.js';

/**
 * Bounds the renders in flight: at most `concurrency` run, `queue` more wait, and anything beyond
 * is refused at once with 503 and Retry-After, so overload costs a retry, never the process's memory.
 */
export class RenderGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Whether a request for a slot now would be refused: checked before a body is even parsed. */
  get full(): boolean {
    return this.active >= this.concurrency && this.waiting.length >= this.queue;
  }

  /** Runs `work` when a slot is free; work whose request was abandoned while waiting never starts. */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw overloaded();
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      signal.throwIfAborted();
      return await work();
    } finally {
      const next = this.waiting.shift();
      // A waiter inherits this slot; otherwise the slot is freed.
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** The answer to a request the gate has no room for: retry in a second. */
export function overloaded(): HttpError {
  return new HttpError(503, 'overloaded', 'too many renders in progress; retry shortly', { retryAfter: 1 });
}
