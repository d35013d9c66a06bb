import { createHash, randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { type Db, now } from './db.js';

export const ROLES = ['admin', 'marketing', 'rep'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  repId: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** Keys are 192 random bits; only their SHA-256 is stored (a fast hash is right for random secrets). */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface KeyRow {
  id: string;
  name: string;
  role: Role;
  rep_id: string | null;
  created_at: string;
  revoked_at: string | null;
}

export const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  role: r.role,
  repId: r.rep_id,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export class KeyStore {
  /** Every API request asks this: prepared once. */
  private readonly byHash: Statement;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL');
  }

  /** Creates a key; the secret is returned this once and never stored. */
  create(input: { role: Role; name: string; repId?: string | null }): { key: string; apiKey: ApiKey } {
    if (input.role === 'rep' && !input.repId) throw new Error('a rep key needs a rep id');
    const id = randomBytes(6).toString('hex');
    const key = `platen_${randomBytes(24).toString('base64url')}`;
    const row: KeyRow = {
      id,
      name: input.name,
      role: input.role,
      rep_id: input.repId ?? null,
      created_at: now(),
      revoked_at: null,
    };
    this.db
      .prepare(
        'INSERT INTO api_keys (id, name, role, rep_id, key_hash, created_at) VALUES (@id, @name, @role, @rep_id, @key_hash, @created_at)',
      )
      .run({ ...row, key_hash: hashKey(key) });
    return { key, apiKey: toKey(row) };
  }

  /** The live key for a secret, or null (unknown or revoked). */
  authenticate(key: string): ApiKey | null {
    const row = this.byHash.get(hashKey(key)) as KeyRow | undefined;
    return row ? toKey(row) : null;
  }

  /** Revokes a key and ends every page session signed in with it. */
  revoke(id: string): boolean {
    return this.db.transaction(() => {
      const revoked =
        this.db
          .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
          .run(now(), id).changes > 0;
      this.db.prepare('DELETE FROM sessions WHERE key_id = ?').run(id);
      return revoked;
    })();
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all() as KeyRow[]).map(toKey);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n;
  }
}
