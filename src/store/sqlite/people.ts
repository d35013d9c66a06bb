import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Identity, PeopleStore, Person, Role } from '../store.js';
import { type PersonRow, toPerson } from '../rows.js';
import { type Db, now } from './db.js';

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
        password_hash: null,
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

  async create(input: {
    name: string;
    email: string;
    role: Role | null;
    repId: string | null;
  }): Promise<Person | null> {
    return this.db.transaction(() => {
      const taken = this.db
        .prepare('SELECT 1 FROM people WHERE issuer IS NULL AND email = ? COLLATE NOCASE')
        .get(input.email);
      if (taken) return null;
      this.ensureRep(input.repId);
      const row: PersonRow = {
        id: randomBytes(6).toString('hex'),
        name: input.name,
        email: input.email,
        role: input.role,
        rep_id: input.repId,
        issuer: null,
        subject: null,
        password_hash: null,
        created_at: now(),
        last_sign_in_at: null,
        disabled_at: null,
      };
      this.db
        .prepare(
          `INSERT INTO people (id, name, email, role, rep_id, created_at)
           VALUES (@id, @name, @email, @role, @rep_id, @created_at)`,
        )
        .run(row);
      return toPerson(row);
    })();
  }

  async setPasswordLink(id: string, linkHash: string, expires: number): Promise<boolean> {
    const changed = this.db
      .prepare(
        `UPDATE people SET password_link_hash = ?, password_link_expires_at = ?
         WHERE id = ? AND issuer IS NULL AND disabled_at IS NULL`,
      )
      .run(linkHash, expires, id).changes;
    return changed > 0;
  }

  async findByPasswordLink(linkHash: string): Promise<Person | null> {
    const row = this.db
      .prepare(
        `SELECT * FROM people WHERE password_link_hash = ? AND password_link_expires_at > ?
         AND disabled_at IS NULL`,
      )
      .get(linkHash, Date.now()) as PersonRow | undefined;
    return row ? toPerson(row) : null;
  }

  async setPassword(linkHash: string, passwordHash: string): Promise<Person | null> {
    return this.db.transaction(() => {
      const person = this.db
        .prepare(
          `SELECT * FROM people WHERE password_link_hash = ? AND password_link_expires_at > ?
           AND disabled_at IS NULL`,
        )
        .get(linkHash, Date.now()) as PersonRow | undefined;
      if (!person) return null;
      this.db
        .prepare(
          `UPDATE people SET password_hash = ?, password_link_hash = NULL, password_link_expires_at = NULL
           WHERE id = ?`,
        )
        .run(passwordHash, person.id);
      this.db.prepare('DELETE FROM sessions WHERE person_id = ?').run(person.id);
      return toPerson({ ...person, password_hash: passwordHash });
    })();
  }

  async findPassword(email: string): Promise<{ person: Person; passwordHash: string } | null> {
    const row = this.db
      .prepare(
        `SELECT * FROM people WHERE issuer IS NULL AND email = ? COLLATE NOCASE
         AND password_hash IS NOT NULL AND disabled_at IS NULL`,
      )
      .get(email) as PersonRow | undefined;
    return row ? { person: toPerson(row), passwordHash: row.password_hash! } : null;
  }

  async signedIn(id: string): Promise<void> {
    this.db.prepare('UPDATE people SET last_sign_in_at = ? WHERE id = ?').run(now(), id);
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
