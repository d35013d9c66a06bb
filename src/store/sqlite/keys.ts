import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { ApiKey, KeyStore, Role } from '../store.js';
import { type KeyRow, toKey } from '../rows.js';
import { type Db, now } from './db.js';

export class SqliteKeyStore implements KeyStore {
  /** Every API request asks this: prepared once. */
  private readonly byHash: Statement;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL');
  }

  async create(input: { role: Role; name: string; repId: string | null }, keyHash: string): Promise<ApiKey> {
    const row: KeyRow = {
      id: randomBytes(6).toString('hex'),
      name: input.name,
      role: input.role,
      rep_id: input.repId,
      created_at: now(),
      revoked_at: null,
      last_used_at: null,
    };
    this.db
      .prepare(
        'INSERT INTO api_keys (id, name, role, rep_id, key_hash, created_at) VALUES (@id, @name, @role, @rep_id, @key_hash, @created_at)',
      )
      .run({ ...row, key_hash: keyHash });
    return toKey(row);
  }

  async findLive(keyHash: string): Promise<ApiKey | null> {
    const row = this.byHash.get(keyHash) as KeyRow | undefined;
    return row ? toKey(row) : null;
  }

  async revoke(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const revoked =
        this.db
          .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
          .run(now(), id).changes > 0;
      this.db.prepare('DELETE FROM sessions WHERE key_id = ?').run(id);
      return revoked;
    })();
  }

  async list(): Promise<ApiKey[]> {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all() as KeyRow[]).map(toKey);
  }

  async used(id: string, at: string): Promise<void> {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n;
  }
}
