import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiKey, Person, SessionOwner, Store } from '../store/store.js';
import { personCaller } from './policy.js';

export type { SessionOwner } from '../store/store.js';

/** How long a sign-in lasts. */
export const SESSION_MS = 8 * 3_600_000;

/** Session ids are 256 random bits, so a fast hash is right; only the hash is stored. */
const hashId = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A live session: who acts through it, and the person it belongs to if it is a person's. */
export interface SignedIn {
  /** When it ends, ms since the epoch. */
  expires: number;
  /** The caller the services see: the key, or the person's caller; null while a person waits for a role. */
  caller: ApiKey | null;
  person: Person | null;
}

/**
 * Sessions of the pages, kept on the server so they can be ended: signing out ends one, revoking a
 * key or disabling a person ends all of theirs. The cookie carries the session's random id; the
 * store only its SHA-256, so a copy of the database signs nobody in.
 */
export class SessionService {
  constructor(private readonly store: Store) {}

  /** Starts a session for a key or a person; returns its id, for the cookie, once. */
  async start(owner: SessionOwner): Promise<{ token: string; expires: number }> {
    const token = randomBytes(32).toString('base64url');
    const expires = Date.now() + SESSION_MS;
    await this.store.sessions.start(hashId(token), owner, expires);
    return { token, expires };
  }

  /** The session for a cookie's id while it lasts and its key is live (its person enabled), else null. */
  async find(token: string): Promise<SignedIn | null> {
    const found = await this.store.sessions.find(hashId(token));
    if (!found) return null;
    const caller = found.key ?? (found.person && personCaller(found.person));
    return { expires: found.expires, caller, person: found.person };
  }

  /** Ends one session (signing out). */
  end(token: string): Promise<void> {
    return this.store.sessions.end(hashId(token));
  }

  /**
   * The secret that signs the pages' CSRF tokens and sealed cookies, kept in the store so that every
   * node signs alike. Made once: from `legacyFile` (the `session.key` an earlier Platen kept in its
   * data directory) where there is one, so nobody signed in is signed out by the upgrade, else at
   * random. Once stored, the file is never read again.
   */
  pagesSecret(legacyFile: string): Promise<Buffer> {
    return this.store.sessions.secret('pages', () => legacySecret(legacyFile) ?? randomBytes(32));
  }
}

/**
 * The secret of an earlier Platen's `session.key` (hex), or null without one. A file shorter than a
 * secret was cut off as it was first written (a kill, a full disk): it never signed anything.
 */
function legacySecret(file: string): Buffer | null {
  try {
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    return secret.length >= 32 ? secret : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
