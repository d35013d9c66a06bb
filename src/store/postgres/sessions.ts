import type { SessionOwner, SessionStore, StoredSession } from '../store.js';
import { type Db, now } from './db.js';
import { type KeyRow, type PersonRow, toKey, toPerson } from '../rows.js';
import { KEY_COLUMNS } from './keys.js';
import { PERSON_COLUMNS } from './people.js';

export class PostgresSessionStore implements SessionStore {
  constructor(private readonly db: Db) {}

  /** One statement: the expired sessions go as the new one is stored. */
  async start(idHash: string, owner: SessionOwner, expires: number): Promise<void> {
    await this.db.query(
      `WITH expired AS (DELETE FROM sessions WHERE expires_at <= $1)
       INSERT INTO sessions (id_hash, key_id, person_id, created_at, expires_at) VALUES ($2, $3, $4, $5, $6)`,
      [
        Date.now(),
        idHash,
        'keyId' in owner ? owner.keyId : null,
        'personId' in owner ? owner.personId : null,
        now(),
        expires,
      ],
    );
  }

  async find(idHash: string): Promise<StoredSession | null> {
    const { rows } = await this.db.query<{
      key_id: string | null;
      person_id: string | null;
      expires_at: number;
    }>({
      // Every page request asks this: prepared once per connection.
      name: 'live-session',
      text: 'SELECT key_id, person_id, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2',
      values: [idHash, Date.now()],
    });
    const session = rows[0];
    if (!session) return null;
    if (session.key_id !== null) {
      const key = await this.db.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
        [session.key_id],
      );
      return key.rows[0] ? { expires: session.expires_at, key: toKey(key.rows[0]), person: null } : null;
    }
    const person = await this.db.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM people WHERE id = $1 AND disabled_at IS NULL`,
      [session.person_id],
    );
    return person.rows[0]
      ? { expires: session.expires_at, key: null, person: toPerson(person.rows[0]) }
      : null;
  }

  async end(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  /** Read first, so that `make` runs only while none is stored; of nodes inserting at once, the first wins. */
  async secret(name: string, make: () => Buffer): Promise<Buffer> {
    const stored = async () =>
      (await this.db.query<{ value: Buffer }>('SELECT value FROM secrets WHERE name = $1', [name])).rows[0]
        ?.value;
    const found = await stored();
    if (found) return found;
    await this.db.query('INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      name,
      make(),
    ]);
    return (await stored())!;
  }
}
