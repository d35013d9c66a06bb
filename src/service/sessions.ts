import { createHash, randomBytes } from 'node:crypto';
import type { Store, StoredSession } from '../store/store.js';

export type { StoredSession } from '../store/store.js';

/** How long a sign-in lasts. */
export const SESSION_MS = 8 * 3_600_000;

/** Session ids are 256 random bits, so a fast hash is right; only the hash is stored. */
const hashId = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Sessions of the pages, kept on the server so they can be ended: signing out ends one, revoking a
 * key ends all of the key's. The cookie carries the session's random id; the store only its SHA-256,
 * so a copy of the database signs nobody in.
 */
export class SessionService {
  constructor(private readonly store: Store) {}

  /** Starts a session for a key; returns its id, for the cookie, once. */
  async start(keyId: string): Promise<{ token: string; expires: number }> {
    const token = randomBytes(32).toString('base64url');
    const expires = Date.now() + SESSION_MS;
    await this.store.sessions.start(hashId(token), keyId, expires);
    return { token, expires };
  }

  /** The session for a cookie's id while it lasts and its key is live, else null. */
  find(token: string): Promise<StoredSession | null> {
    return this.store.sessions.find(hashId(token));
  }

  /** Ends one session (signing out). */
  end(token: string): Promise<void> {
    return this.store.sessions.end(hashId(token));
  }
}
