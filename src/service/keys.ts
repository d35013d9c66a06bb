import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ApiKey, Role, Store } from '../store/store.js';
import { authorize } from './policy.js';

/** Keys are 192 random bits; only their SHA-256 is stored (a fast hash is right for random secrets). */
const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Whoever runs the CLI over a data directory: its key commands act with an admin's rights, as the
 * files are theirs already.
 */
export const OPERATOR: ApiKey = {
  id: 'operator',
  name: 'operator',
  role: 'admin',
  repId: null,
  createdAt: '',
  revokedAt: null,
  lastUsedAt: null,
};

/**
 * A key's last use is written at most this often: a busy key would otherwise write the database on
 * every request, for a time people read to the minute.
 */
export const LAST_USED_EVERY_MS = 60_000;

/** API keys, for those the role policy lets manage them. Only a key's SHA-256 is ever stored. */
export class KeyService {
  constructor(private readonly store: Store) {}

  /**
   * The live key for a secret, or null (unknown or revoked): how every face knows its caller. Its
   * last use is recorded when the one recorded is older than LAST_USED_EVERY_MS.
   */
  async authenticate(key: string): Promise<ApiKey | null> {
    const found = await this.store.keys.findLive(hashKey(key));
    if (!found) return null;
    const now = Date.now();
    if (found.lastUsedAt === null || now - Date.parse(found.lastUsedAt) >= LAST_USED_EVERY_MS) {
      const at = new Date(now).toISOString();
      try {
        await this.store.keys.used(found.id, at);
      } catch {
        // The last use is a convenience for admins: a store that cannot write it (a full disk)
        // must not refuse a caller who could otherwise read.
        return found;
      }
      return { ...found, lastUsedAt: at };
    }
    return found;
  }

  /** Every key, revoked ones included; never a secret. */
  async list(caller: ApiKey): Promise<ApiKey[]> {
    authorize(caller, 'keys.manage');
    return this.store.keys.list();
  }

  /**
   * A new key; its secret is returned this once. A rep key's profile is made if it has none.
   * `beforeStoring` gets the secret before the key is stored: a key whose secret could not be kept
   * (written down) is never stored.
   */
  async create(
    caller: ApiKey,
    input: { role: Role; name: string; repId?: string },
    beforeStoring?: (key: string) => Promise<void>,
  ): Promise<{ key: string; apiKey: ApiKey }> {
    authorize(caller, 'keys.manage');
    if (input.role === 'rep' && !input.repId) throw new Error('a rep key needs a rep id');
    if (input.repId) await this.store.reps.ensure(input.repId);
    const key = `platen_${randomBytes(24).toString('base64url')}`;
    await beforeStoring?.(key);
    const apiKey = await this.store.keys.create(
      { role: input.role, name: input.name, repId: input.repId ?? null },
      hashKey(key),
    );
    return { key, apiKey };
  }

  /** Whether any key exists: none before the first start has made the first admin's. */
  async any(): Promise<boolean> {
    return (await this.store.keys.count()) > 0;
  }

  /** Revokes a live key, ending its page sessions; a key cannot revoke itself. */
  async revoke(caller: ApiKey, id: string): Promise<void> {
    authorize(caller, 'keys.manage');
    if (id === caller.id) throw new ConflictError('own_key', 'a key cannot revoke itself');
    if (!(await this.store.keys.revoke(id))) throw new NotFoundError('not_found', `no live key ${id}`);
  }
}
