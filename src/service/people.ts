import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ApiKey, Identity, Person, Role, Store } from '../store/store.js';
import { hashPassword, nobodysHash, verifyPassword } from './passwords.js';
import { authorize } from './policy.js';

/** How long a link to set a password lasts: a week, long enough to reach someone by email. */
export const PASSWORD_LINK_MS = 7 * 86_400_000;

/** Link tokens are 256 random bits, so a fast hash is right; only the hash is stored. */
const hashLink = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The people who sign in to the pages: through the organisation's identity provider, which vouches
 * for who they are, or (for small teams without one) with an email and a password they set through
 * a one-time link an admin gives them. Their role (and a rep's rep id) comes from the provider's
 * claims or from an admin, and until then they wait. An admin gives roles and disables people, never
 * their own: nobody signs in as, or changes the rights of, the person they are.
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
    repIdFits(input);
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

  /**
   * Makes a person who signs in with their email and a password, and returns the one-time link
   * (its token) with which they set it. A rep needs their rep id.
   */
  async create(
    caller: ApiKey,
    input: { name: string; email: string; role: Role; repId?: string },
  ): Promise<{ person: Person; token: string }> {
    authorize(caller, 'people.manage');
    repIdFits(input);
    const person = await this.store.people.create({
      name: input.name,
      email: input.email,
      role: input.role,
      repId: input.repId ?? null,
    });
    if (!person) throw new ConflictError('email_taken', `someone already signs in with ${input.email}`);
    return { person, token: await this.newLink(person.id) };
  }

  /** A new one-time link for a person who signs in with a password to set it (again): the last one stops working. */
  async passwordLink(caller: ApiKey, id: string): Promise<string> {
    authorize(caller, 'people.manage');
    this.notSelf(caller, id, 'give themselves a password link');
    return this.newLink(id);
  }

  private async newLink(id: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    if (!(await this.store.people.setPasswordLink(id, hashLink(token), Date.now() + PASSWORD_LINK_MS))) {
      throw new NotFoundError('not_found', `no enabled person ${id} who signs in with a password`);
    }
    return token;
  }

  /** Who a live password link is for (the link is the authority: no caller), or null. */
  forPasswordLink(token: string): Promise<Person | null> {
    return this.store.people.findByPasswordLink(hashLink(token));
  }

  /** Sets the password a live link is for, using the link up and ending the person's sessions; null if none. */
  async setPassword(token: string, password: string): Promise<Person | null> {
    if (!(await this.store.people.findByPasswordLink(hashLink(token)))) return null;
    return this.store.people.setPassword(hashLink(token), await hashPassword(password));
  }

  /** The enabled person whose email and password these are, or null (taking as long either way). */
  async signInWithPassword(email: string, password: string): Promise<Person | null> {
    const found = await this.store.people.findPassword(email);
    const right = await verifyPassword(password, found?.passwordHash ?? (await nobodysHash()));
    if (!found || !right) return null;
    await this.store.people.signedIn(found.person.id);
    return found.person;
  }

  private notSelf(caller: ApiKey, id: string, what: string): void {
    if (caller.id === `person:${id}`) throw new ConflictError('own_person', `nobody may ${what}`);
  }
}

/** A rep needs the rep id whose profile they print with; others take none. */
function repIdFits(input: { role: Role; repId?: string }): void {
  if ((input.role === 'rep') !== (input.repId !== undefined)) {
    throw new ConflictError('rep_id', 'a rep needs a rep id, and only a rep has one');
  }
}
