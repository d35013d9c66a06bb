import { randomBytes } from 'node:crypto';
import type { ApiKey, KeyStore, Role } from '../store.js';
import { type KeyRow, toKey } from '../rows.js';
import { type Db, now } from './db.js';

export const KEY_COLUMNS = 'id, name, role, rep_id, created_at, revoked_at, last_used_at';

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly db: Db) {}

  async create(input: { role: Role; name: string; repId: string | null }, keyHash: string): Promise<ApiKey> {
    const { rows } = await this.db.query<KeyRow>(
      `INSERT INTO api_keys (id, name, role, rep_id, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${KEY_COLUMNS}`,
      [randomBytes(6).toString('hex'), input.name, input.role, input.repId, keyHash, now()],
    );
    return toKey(rows[0]!);
  }

  async findLive(keyHash: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query<KeyRow>({
      // Every API request asks this: prepared once per connection.
      name: 'live-key-by-hash',
      text: `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      values: [keyHash],
    });
    return rows[0] ? toKey(rows[0]) : null;
  }

  /** One statement: the key is revoked and its sessions end together. */
  async revoke(id: string): Promise<boolean> {
    const { rows } = await this.db.query<{ revoked: boolean }>(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id),
         ended AS (DELETE FROM sessions WHERE key_id = $1)
       SELECT EXISTS (SELECT 1 FROM revoked) AS revoked`,
      [id, now()],
    );
    return rows[0]!.revoked;
  }

  async list(): Promise<ApiKey[]> {
    const { rows } = await this.db.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
    );
    return rows.map(toKey);
  }

  async used(id: string, at: string): Promise<void> {
    await this.db.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [at, id]);
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM api_keys');
    return rows[0]!.n;
  }
}
