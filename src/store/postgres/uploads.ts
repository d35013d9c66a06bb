import type { UploadStore } from '../store.js';
import { type Db, now } from './db.js';

/** Expired rows are deleted as new uploads come in. */
export class PostgresUploadStore implements UploadStore {
  constructor(private readonly db: Db) {}

  async add(sha256: string, owner: string, expires: number): Promise<void> {
    await this.db.query(
      `WITH expired AS (DELETE FROM uploads WHERE expires_at <= $1)
       INSERT INTO uploads (sha256, owner, created_at, expires_at) VALUES ($2, $3, $4, $5)
       ON CONFLICT (sha256, owner) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at`,
      [Date.now(), sha256, owner, now(), expires],
    );
  }

  async owns(sha256: string, owner: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'SELECT 1 FROM uploads WHERE sha256 = $1 AND owner = $2 AND expires_at > $3',
      [sha256, owner, Date.now()],
    );
    return rowCount === 1;
  }
}
