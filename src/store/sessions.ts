import { createHash, randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { type Db, now } from './db.js';
import { type ApiKey, type KeyRow, toKey } from './keys.js';

/** A signed-in session of the pages, with the live key it acts as. */
export interface StoredSession {
  keyId: string;
  /** When it ends, ms since the epoch. */
  expires: number;
  key: ApiKey;
}

/** How long a sign-in lasts. */
export const SESSION_MS = 8 * 3_600_000;

/** Session ids are 256 random bits, so a fast hash is right; only the hash is stored. */
const hashId = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Sessions of the pages, kept on the server so they can be ended: signing out deletes one, revoking
 * a key deletes all of the key's (KeyStore.revoke). The cookie carries the session's random id; the
 * table only its SHA-256, so a copy of the database signs nobody in.
 */
export class SessionStore {
  private readonly byHash: Statement;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare(
      `SELECT s.key_id AS session_key, s.expires_at, k.* FROM sessions s
       JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    );
  }

  /**
   * Starts a session for a key; returns its id, for the cookie, once. Expired sessions are deleted
   * here, so the table holds at most the sessions started within one session's lifetime.
   */
  start(keyId: string): { token: string; expires: number } {
    const token = randomBytes(32).toString('base64url');
    const started = Date.now();
    const expires = started + SESSION_MS;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(started);
      this.db
        .prepare('INSERT INTO sessions (id_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
        .run(hashId(token), keyId, now(), expires);
    })();
    return { token, expires };
  }

  /** The session for a cookie's id while it lasts and its key is live, else null. */
  find(token: string): StoredSession | null {
    const row = this.byHash.get(hashId(token), Date.now()) as
      (KeyRow & { session_key: string; expires_at: number }) | undefined;
    return row ? { keyId: row.session_key, expires: row.expires_at, key: toKey(row) } : null;
  }

  /** Ends one session (signing out). */
  end(token: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashId(token));
  }
}
