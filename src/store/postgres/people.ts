import { randomBytes } from 'node:crypto';
import type { Identity, PeopleStore, Person, Role } from '../store.js';
import { type PersonRow, toPerson } from '../rows.js';
import { type Db, now, transaction, type Tx } from './db.js';

export const PERSON_COLUMNS =
  'id, name, email, role, rep_id, issuer, subject, password_hash, created_at, last_sign_in_at, disabled_at';

/** A live password link's enabled person. */
const BY_LINK = `password_link_hash = $1 AND password_link_expires_at > $2 AND disabled_at IS NULL`;

export class PostgresPeopleStore implements PeopleStore {
  constructor(private readonly db: Db) {}

  /** A rep id names a rep profile: one is made (empty) if there is none, as for a rep key. */
  private async ensureRep(tx: Tx, repId: string | null | undefined): Promise<void> {
    if (repId) {
      await tx.query('INSERT INTO reps (id, updated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        repId,
        now(),
      ]);
    }
  }

  async signIn(identity: Identity): Promise<Person> {
    return transaction(this.db, async (tx) => {
      // Two first sign-ins of one person at once (two tabs, two nodes) wait for each other here, so
      // the second finds the person the first made.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `person ${identity.issuer} ${identity.subject}`,
      ]);
      const at = now();
      const { rows } = await tx.query<PersonRow>(
        `SELECT ${PERSON_COLUMNS} FROM people WHERE issuer = $1 AND subject = $2`,
        [identity.issuer, identity.subject],
      );
      const found = rows[0];
      if (found?.disabled_at) return toPerson(found);
      const role = identity.role ?? found?.role ?? null;
      // Only a rep has a rep id (kept, while they wait, for the rep role an admin may give them).
      const repId = role === null || role === 'rep' ? (identity.repId ?? found?.rep_id ?? null) : null;
      await this.ensureRep(tx, repId);
      const stored = await tx.query<PersonRow>(
        `INSERT INTO people (id, name, email, role, rep_id, issuer, subject, created_at, last_sign_in_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role,
           rep_id = excluded.rep_id, last_sign_in_at = excluded.last_sign_in_at
         RETURNING ${PERSON_COLUMNS}`,
        [
          found?.id ?? randomBytes(6).toString('hex'),
          identity.name,
          identity.email,
          role,
          repId,
          identity.issuer,
          identity.subject,
          at,
        ],
      );
      return toPerson(stored.rows[0]!);
    });
  }

  async get(id: string): Promise<Person | null> {
    const { rows } = await this.db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toPerson(rows[0]) : null;
  }

  async list(): Promise<Person[]> {
    const { rows } = await this.db.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM people ORDER BY role IS NOT NULL, lower(name), id COLLATE "C"`,
    );
    return rows.map(toPerson);
  }

  async assign(id: string, role: Role, repId: string | null): Promise<Person | null> {
    return transaction(this.db, async (tx) => {
      await this.ensureRep(tx, repId);
      const { rows } = await tx.query<PersonRow>(
        `UPDATE people SET role = $1, rep_id = $2 WHERE id = $3 RETURNING ${PERSON_COLUMNS}`,
        [role, repId, id],
      );
      return rows[0] ? toPerson(rows[0]) : null;
    });
  }

  async create(input: {
    name: string;
    email: string;
    role: Role | null;
    repId: string | null;
  }): Promise<Person | null> {
    return transaction(this.db, async (tx) => {
      const taken = await tx.query('SELECT 1 FROM people WHERE issuer IS NULL AND lower(email) = lower($1)', [
        input.email,
      ]);
      if (taken.rowCount !== 0) return null;
      await this.ensureRep(tx, input.repId);
      // The email's unique index (its lower case, among people without an issuer) decides a race.
      const { rows } = await tx.query<PersonRow>(
        `INSERT INTO people (id, name, email, role, rep_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING RETURNING ${PERSON_COLUMNS}`,
        [randomBytes(6).toString('hex'), input.name, input.email, input.role, input.repId, now()],
      );
      return rows[0] ? toPerson(rows[0]) : null;
    });
  }

  async setPasswordLink(id: string, linkHash: string, expires: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE people SET password_link_hash = $1, password_link_expires_at = $2
       WHERE id = $3 AND issuer IS NULL AND disabled_at IS NULL`,
      [linkHash, expires, id],
    );
    return rowCount === 1;
  }

  async findByPasswordLink(linkHash: string): Promise<Person | null> {
    const { rows } = await this.db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people WHERE ${BY_LINK}`, [
      linkHash,
      Date.now(),
    ]);
    return rows[0] ? toPerson(rows[0]) : null;
  }

  /** One statement: the link is used up, the password set and the person's sessions ended together. */
  async setPassword(linkHash: string, passwordHash: string): Promise<Person | null> {
    const { rows } = await this.db.query<PersonRow>(
      `WITH person AS (
         UPDATE people SET password_hash = $3, password_link_hash = NULL, password_link_expires_at = NULL
         WHERE ${BY_LINK} RETURNING ${PERSON_COLUMNS}
       ), ended AS (DELETE FROM sessions WHERE person_id IN (SELECT id FROM person))
       SELECT * FROM person`,
      [linkHash, Date.now(), passwordHash],
    );
    return rows[0] ? toPerson(rows[0]) : null;
  }

  async findPassword(email: string): Promise<{ person: Person; passwordHash: string } | null> {
    const { rows } = await this.db.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM people WHERE issuer IS NULL AND lower(email) = lower($1)
       AND password_hash IS NOT NULL AND disabled_at IS NULL`,
      [email],
    );
    return rows[0] ? { person: toPerson(rows[0]), passwordHash: rows[0].password_hash! } : null;
  }

  async signedIn(id: string): Promise<void> {
    await this.db.query('UPDATE people SET last_sign_in_at = $1 WHERE id = $2', [now(), id]);
  }

  /** One statement: the person is disabled and their sessions end together. */
  async disable(id: string): Promise<boolean> {
    const { rows } = await this.db.query<{ disabled: boolean }>(
      `WITH disabled AS (UPDATE people SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL RETURNING id),
         ended AS (DELETE FROM sessions WHERE person_id = $1)
       SELECT EXISTS (SELECT 1 FROM disabled) AS disabled`,
      [id, now()],
    );
    return rows[0]!.disabled;
  }
}
