import type { RateLimitStore } from '../store.js';
import type { Db } from './db.js';

/** One row per key: its window and the count in it, started again when a new window begins. */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Db) {}

  async hit(key: string, windowMs: number, by: 1 | -1 = 1): Promise<{ hits: number; resetAt: number }> {
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    // One statement: concurrent requests on any node each count once.
    const { rows } = await this.db.query<{ hits: number }>(
      `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, greatest($3, 0))
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN rate_limits.window_start = excluded.window_start
           THEN greatest(rate_limits.hits + $3, 0) ELSE excluded.hits END,
         window_start = excluded.window_start
       RETURNING hits`,
      [key, windowStart, by],
    );
    return { hits: rows[0]!.hits, resetAt: windowStart + windowMs };
  }
}
