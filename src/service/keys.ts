import { ConflictError, NotFoundError } from '../errors.js';
import type { ApiKey, Role } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { authorize } from './policy.js';

/** API keys, for those the role policy lets manage them. Only a key's SHA-256 is ever stored. */
export class KeyService {
  constructor(private readonly store: Store) {}

  /** Every key, revoked ones included; never a secret. */
  list(caller: ApiKey): ApiKey[] {
    authorize(caller, 'keys.manage');
    return this.store.keys.list();
  }

  /** A new key; its secret is returned this once. A rep key's profile is made if it has none. */
  create(
    caller: ApiKey,
    input: { role: Role; name: string; repId?: string },
  ): { key: string; apiKey: ApiKey } {
    authorize(caller, 'keys.manage');
    if (input.repId) this.store.reps.ensure(input.repId);
    return this.store.keys.create(input);
  }

  /** Revokes a live key, ending its page sessions; a key cannot revoke itself. */
  revoke(caller: ApiKey, id: string): void {
    authorize(caller, 'keys.manage');
    if (id === caller.id) throw new ConflictError('own_key', 'a key cannot revoke itself');
    if (!this.store.keys.revoke(id)) throw new NotFoundError('not_found', `no live key ${id}`);
  }
}
