import type { Store } from '../store/store.js';

/**
 * Requests counted per caller in the store, so that every API node on it counts against one limit:
 * a caller spreading requests over nodes gets no more than the limit.
 */
export class RateLimitService {
  constructor(private readonly store: Store) {}

  /**
   * Counts one request of `key` in the current window of `windowMs` (or takes one back, `by` -1): the
   * count so far and when the window ends.
   */
  hit(key: string, windowMs: number, by: 1 | -1 = 1): Promise<{ hits: number; resetAt: number }> {
    return this.store.rateLimits.hit(key, windowMs, by);
  }
}
