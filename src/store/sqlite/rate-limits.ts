import type { RateLimitStore } from '../store.js';
import type { Db } from './db.js';

/** One row per key: its window and the count in it, started again when a new window begins. */
export class SqliteRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Db) {}

  async hit(key: string, windowMs: number, by: 1 | -1 = 1): Promise<{ hits: number; resetAt: number }> {
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    const { hits } = this.db
      .prepare(
        `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, max(?, 0))
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start = excluded.window_start
             THEN max(rate_limits.hits + ?, 0) ELSE excluded.hits END,
           window_start = excluded.window_start
         RETURNING hits`,
      )
      .get(key, windowStart, by, by) as { hits: number };
    return { hits, resetAt: windowStart + windowMs };
  }
}
