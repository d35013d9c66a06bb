import type { UploadStore } from '../store.js';
import type { Db } from './db.js';
import { now } from './db.js';

/** Expired rows are deleted as new uploads come in. */
export class SqliteUploadStore implements UploadStore {
  constructor(private readonly db: Db) {}

  async add(sha256: string, owner: string, expires: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM uploads WHERE expires_at <= ?').run(Date.now());
      this.db
        .prepare(
          `INSERT INTO uploads (sha256, owner, created_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (sha256, owner) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at`,
        )
        .run(sha256, owner, now(), expires);
    })();
  }

  async owns(sha256: string, owner: string): Promise<boolean> {
    return (
      this.db
        .prepare('SELECT 1 FROM uploads WHERE sha256 = ? AND owner = ? AND expires_at > ?')
        .get(sha256, owner, Date.now()) !== undefined
    );
  }
}
