import { ConflictError, NotFoundError } from '../errors.js';
import type { ApiKey, Identity, Person, Role, Store } from '../store/store.js';
import { authorize } from './policy.js';

/**
 * The people who sign in to the pages through the organisation's identity provider. The provider
 * vouches for who they are; their role (and a rep's rep id) comes from its claims or from an admin,
 * and until then they wait. An admin gives roles and disables people, never their own: nobody
 * signs in as, or changes the rights of, the person they are.
 */
export class PeopleService {
  constructor(private readonly store: Store) {}

  /**
   * The person an identity provider has just vouched for (made on their first sign-in), or null if
   * they are disabled. The face calls this only with an identity it verified.
   */
  async signIn(identity: Identity): Promise<Person | null> {
    const person = await this.store.people.signIn(identity);
    return person.disabledAt ? null : person;
  }

  async list(caller: ApiKey): Promise<Person[]> {
    authorize(caller, 'people.manage');
    return this.store.people.list();
  }

  /** Gives a person a role: a rep needs the rep id whose profile they print with; others take none. */
  async assign(caller: ApiKey, id: string, input: { role: Role; repId?: string }): Promise<Person> {
    authorize(caller, 'people.manage');
    this.notSelf(caller, id, 'change their own role');
    if ((input.role === 'rep') !== (input.repId !== undefined)) {
      throw new ConflictError('rep_id', 'a rep needs a rep id, and only a rep has one');
    }
    const person = await this.store.people.assign(id, input.role, input.repId ?? null);
    if (!person) throw new NotFoundError('not_found', `no person ${id}`);
    return person;
  }

  /** Disables a person: every session of theirs ends at once, and they cannot sign in again. */
  async disable(caller: ApiKey, id: string): Promise<void> {
    authorize(caller, 'people.manage');
    this.notSelf(caller, id, 'disable themselves');
    if (!(await this.store.people.disable(id)))
      throw new NotFoundError('not_found', `no enabled person ${id}`);
  }

  private notSelf(caller: ApiKey, id: string, what: string): void {
    if (caller.id === `person:${id}`) throw new ConflictError('own_person', `nobody may ${what}`);
  }
}
