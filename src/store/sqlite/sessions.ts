import type { Statement } from 'better-sqlite3';
import type { SessionStore, StoredSession } from '../store.js';
import { type Db, now } from './db.js';
import { type KeyRow, toKey } from './keys.js';

export class SqliteSessionStore implements SessionStore {
  private readonly byHash: Statement;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare(
      `SELECT s.key_id AS session_key, s.expires_at, k.* FROM sessions s
       JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    );
  }

  async start(idHash: string, keyId: string, expires: number): Promise<void> {
    const started = Date.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(started);
      this.db
        .prepare('INSERT INTO sessions (id_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
        .run(idHash, keyId, now(), expires);
    })();
  }

  async find(idHash: string): Promise<StoredSession | null> {
    const row = this.byHash.get(idHash, Date.now()) as
      (KeyRow & { session_key: string; expires_at: number }) | undefined;
    return row ? { keyId: row.session_key, expires: row.expires_at, key: toKey(row) } : null;
  }

  async end(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }
}
