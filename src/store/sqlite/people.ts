import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Identity, PeopleStore, Person, Role } from '../store.js';
import { type Db, now } from './db.js';

export interface PersonRow {
  id: string;
  name: string;
  email: string;
  role: Role | null;
  rep_id: string | null;
  issuer: string;
  subject: string;
  created_at: string;
  last_sign_in_at: string | null;
  disabled_at: string | null;
}

export const toPerson = (r: PersonRow): Person => ({
  id: r.id,
  name: r.name,
  email: r.email,
  role: r.role,
  repId: r.rep_id,
  issuer: r.issuer,
  subject: r.subject,
  createdAt: r.created_at,
  lastSignInAt: r.last_sign_in_at,
  disabledAt: r.disabled_at,
});

export class SqlitePeopleStore implements PeopleStore {
  /** Every page request of a person's session asks this: prepared once. */
  private readonly byId: Statement;

  constructor(private readonly db: Db) {
    this.byId = db.prepare('SELECT * FROM people WHERE id = ?');
  }

  /** A rep id names a rep profile: one is made (empty) if there is none, as for a rep key. */
  private ensureRep(repId: string | null | undefined): void {
    if (repId) this.db.prepare('INSERT OR IGNORE INTO reps (id, updated_at) VALUES (?, ?)').run(repId, now());
  }

  async signIn(identity: Identity): Promise<Person> {
    return this.db.transaction(() => {
      const at = now();
      const found = this.db
        .prepare('SELECT * FROM people WHERE issuer = ? AND subject = ?')
        .get(identity.issuer, identity.subject) as PersonRow | undefined;
      if (found?.disabled_at) return toPerson(found);
      const role = identity.role ?? found?.role ?? null;
      // Only a rep has a rep id (kept, while they wait, for the rep role an admin may give them).
      const repId = role === null || role === 'rep' ? (identity.repId ?? found?.rep_id ?? null) : null;
      this.ensureRep(repId);
      const row: PersonRow = {
        id: found?.id ?? randomBytes(6).toString('hex'),
        name: identity.name,
        email: identity.email,
        role,
        rep_id: repId,
        issuer: identity.issuer,
        subject: identity.subject,
        created_at: found?.created_at ?? at,
        last_sign_in_at: at,
        disabled_at: null,
      };
      this.db
        .prepare(
          `INSERT INTO people (id, name, email, role, rep_id, issuer, subject, created_at, last_sign_in_at)
           VALUES (@id, @name, @email, @role, @rep_id, @issuer, @subject, @created_at, @last_sign_in_at)
           ON CONFLICT (id) DO UPDATE SET name = @name, email = @email, role = @role, rep_id = @rep_id,
             last_sign_in_at = @last_sign_in_at`,
        )
        .run(row);
      return toPerson(row);
    })();
  }

  async get(id: string): Promise<Person | null> {
    const row = this.byId.get(id) as PersonRow | undefined;
    return row ? toPerson(row) : null;
  }

  async list(): Promise<Person[]> {
    const rows = this.db
      .prepare('SELECT * FROM people ORDER BY role IS NOT NULL, name COLLATE NOCASE, id')
      .all() as PersonRow[];
    return rows.map(toPerson);
  }

  async assign(id: string, role: Role, repId: string | null): Promise<Person | null> {
    return this.db.transaction(() => {
      this.ensureRep(repId);
      const changed = this.db
        .prepare('UPDATE people SET role = ?, rep_id = ? WHERE id = ?')
        .run(role, repId, id).changes;
      return changed > 0 ? toPerson(this.byId.get(id) as PersonRow) : null;
    })();
  }

  async disable(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const disabled =
        this.db
          .prepare('UPDATE people SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL')
          .run(now(), id).changes > 0;
      this.db.prepare('DELETE FROM sessions WHERE person_id = ?').run(id);
      return disabled;
    })();
  }
}
