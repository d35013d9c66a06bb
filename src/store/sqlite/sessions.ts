import type { Statement } from 'better-sqlite3';
import type { SessionOwner, SessionStore, StoredSession } from '../store.js';
import { type Db, now } from './db.js';
import { type KeyRow, type PersonRow, toKey, toPerson } from '../rows.js';

export class SqliteSessionStore implements SessionStore {
  private readonly byHash: Statement;
  private readonly liveKey: Statement;
  private readonly enabledPerson: Statement;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare(
      'SELECT key_id, person_id, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?',
    );
    this.liveKey = db.prepare('SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL');
    this.enabledPerson = db.prepare('SELECT * FROM people WHERE id = ? AND disabled_at IS NULL');
  }

  async start(idHash: string, owner: SessionOwner, expires: number): Promise<void> {
    const started = Date.now();
    const keyId = 'keyId' in owner ? owner.keyId : null;
    const personId = 'personId' in owner ? owner.personId : null;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(started);
      this.db
        .prepare(
          'INSERT INTO sessions (id_hash, key_id, person_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(idHash, keyId, personId, now(), expires);
    })();
  }

  async find(idHash: string): Promise<StoredSession | null> {
    const session = this.byHash.get(idHash, Date.now()) as
      { key_id: string | null; person_id: string | null; expires_at: number } | undefined;
    if (!session) return null;
    const key = session.key_id ? (this.liveKey.get(session.key_id) as KeyRow | undefined) : undefined;
    const person = session.person_id
      ? (this.enabledPerson.get(session.person_id) as PersonRow | undefined)
      : undefined;
    if (!key && !person) return null;
    return {
      expires: session.expires_at,
      key: key ? toKey(key) : null,
      person: person ? toPerson(person) : null,
    };
  }

  async end(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  async secret(name: string, make: () => Buffer): Promise<Buffer> {
    const stored = () =>
      (this.db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as { value: Buffer } | undefined)
        ?.value;
    const found = stored();
    if (found) return found;
    this.db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)').run(name, make());
    return stored()!;
  }
}
