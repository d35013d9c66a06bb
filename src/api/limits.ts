import { HttpError } from './problem.js';

/**
 * Bounds the renders in flight: at most `concurrency` run, `queue` more wait, and anything beyond
 * is refused at once with 503 and Retry-After, so overload costs a retry, never the process's memory.
 */
export class RenderGate {
  private active = 0;
  /** Each waiter takes the slot handed to it. */
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Whether a request for a slot now would be refused: checked before a body is even parsed. */
  get full(): boolean {
    return this.active >= this.concurrency && this.waiting.length >= this.queue;
  }

  /** Work running now. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when a slot is free. A request abandoned while it waits (its signal aborts: the
   * client left, or its time ran out) leaves the queue at once and its work never starts.
   */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw overloaded();
      }
      await this.slot(signal);
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

  /** Waits in the queue for a slot handed over by work that ends; rejects, gone from the queue, on abort. */
  private slot(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(signal.reason);
      };
      this.waiting.push(take);
      signal.addEventListener('abort', leave, { once: true });
    });
  }
}

/** The answer to a request the gate has no room for: retry in a second. */
export function overloaded(): HttpError {
  return new HttpError(503, 'overloaded', 'too many renders in progress; retry shortly', { retryAfter: 1 });
}
