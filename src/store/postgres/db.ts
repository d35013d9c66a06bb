import pg from 'pg';

export type Db = pg.Pool;
export type Tx = pg.PoolClient;

/**
 * Versioned migrations: each runs once, in order, and `schema_migrations` records every version
 * applied. Append only: a released migration is never edited. All pending ones run in one
 * transaction under an advisory lock, so that of several nodes starting at once on a fresh database
 * one migrates and the others wait for it, then find nothing left to do.
 *
 * Times people read are `timestamptz` (read back as ISO strings); times compared with the clock are
 * epoch milliseconds in `bigint` (read back as numbers). Stored documents are `json`, not `jsonb`:
 * `jsonb` reorders an object's keys, and a manifest's inputs are shown in the order they were written.
 */
const MIGRATIONS: string[] = [
  // The schema SQLite's migrations 1 to 10 built, at once.
  `
  CREATE TABLE reps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    license_number TEXT NOT NULL DEFAULT '',
    photo_sha256 TEXT,
    updated_at TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'marketing', 'rep')),
    rep_id TEXT REFERENCES reps(id),
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
  );
  CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT CHECK (role IN ('admin', 'marketing', 'rep')),
    rep_id TEXT REFERENCES reps(id),
    issuer TEXT,
    subject TEXT,
    password_hash TEXT,
    password_link_hash TEXT UNIQUE,
    password_link_expires_at BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ,
    disabled_at TIMESTAMPTZ,
    UNIQUE (issuer, subject),
    CHECK ((issuer IS NULL) = (subject IS NULL))
  );
  CREATE UNIQUE INDEX people_by_email ON people (lower(email)) WHERE issuer IS NULL;
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    key_id TEXT REFERENCES api_keys(id),
    person_id TEXT REFERENCES people(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at BIGINT NOT NULL,
    CHECK ((key_id IS NULL) <> (person_id IS NULL))
  );
  CREATE INDEX sessions_by_key ON sessions(key_id);
  CREATE INDEX sessions_by_person ON sessions(person_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value JSON NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE template_versions (
    template_id TEXT NOT NULL REFERENCES templates(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    manifest JSON NOT NULL,
    report JSON NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_by TEXT,
    published_at TIMESTAMPTZ,
    retired_by TEXT,
    retired_at TIMESTAMPTZ,
    approved_by TEXT,
    approved_at TIMESTAMPTZ,
    PRIMARY KEY (template_id, version)
  );
  CREATE TABLE renders (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    rep_id TEXT,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    record_sha256 TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    piece_code TEXT,
    created_at TIMESTAMPTZ NOT NULL
  );
  CREATE INDEX renders_by_template ON renders(template_id, version);
  CREATE INDEX renders_by_rep ON renders(rep_id, created_at);
  CREATE INDEX renders_by_piece ON renders(piece_code);
  CREATE TABLE uploads (
    sha256 TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, owner)
  );
  CREATE INDEX uploads_by_expiry ON uploads(expires_at);
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    rep_id TEXT,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pdf', 'zip', 'check')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    spec JSON NOT NULL,
    total INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    rendered INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    held_out INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
  );
  CREATE INDEX jobs_by_rep ON jobs(rep_id, created_at);
  CREATE INDEX jobs_unfinished ON jobs(created_at) WHERE state IN ('queued', 'running');
  CREATE TABLE job_chunks (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    result JSON NOT NULL,
    PRIMARY KEY (job_id, idx)
  );
  CREATE TABLE column_mappings (
    template_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    columns JSON NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (template_id, owner)
  );
  CREATE TABLE pieces (
    number BIGINT PRIMARY KEY,
    code TEXT NOT NULL,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    rep_id TEXT,
    key_id TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('form', 'api', 'batch')),
    job_id TEXT,
    row INTEGER,
    recipient_ref TEXT,
    landing_url TEXT,
    choices JSON NOT NULL,
    variant TEXT,
    holdout BOOLEAN NOT NULL,
    edited JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    responses INTEGER NOT NULL DEFAULT 0,
    first_response_at TIMESTAMPTZ,
    outcome TEXT,
    outcome_note TEXT,
    outcome_at TIMESTAMPTZ,
    prospect_name TEXT,
    entered JSON
  );
  CREATE INDEX pieces_by_template ON pieces(template_id, created_at);
  CREATE INDEX pieces_by_rep ON pieces(rep_id, created_at);
  CREATE INDEX pieces_by_job ON pieces(job_id);
  CREATE INDEX pieces_by_recipient ON pieces(recipient_ref);
  CREATE INDEX pieces_by_time ON pieces(created_at, number);
  CREATE TABLE responses (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number BIGINT NOT NULL REFERENCES pieces(number) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('scan', 'visit')),
    device TEXT NOT NULL
  );
  CREATE INDEX responses_by_piece ON responses(number, at);
  CREATE TABLE piece_numbers (next BIGINT NOT NULL);
  INSERT INTO piece_numbers (next) VALUES (1);
  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events JSON NOT NULL,
    secret TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
  );
  CREATE TABLE webhook_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, webhook_id)
  );
  CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE state = 'pending';
  CREATE TABLE webhook_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
  );
  CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts(webhook_id, id);
  `,
  // API nodes sharing the database: the node running each unfinished job and until when its lease
  // holds (epoch ms; it renews it while it runs, and another node takes the job once it runs out),
  // and rate limits' counts per key in the current window. (What one node does at a time, such as
  // the first start, takes an advisory lock: no table.)
  `
  ALTER TABLE jobs ADD COLUMN owner TEXT, ADD COLUMN lease_expires_at BIGINT;
  CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL
  );
  `,
];

/** Any number the advisory lock is known by: the one Platen takes while it migrates. */
const MIGRATION_LOCK = 0x706c6174656e; // "platen"

const TIMESTAMPTZ = 1184;
const INT8 = 20;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;

/**
 * How values come back: `timestamptz` as the ISO strings the store's interfaces speak, `bigint` (epoch
 * milliseconds, piece numbers, counts) as numbers, every one well inside 2^53.
 */
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === TIMESTAMPTZ) return (text: string) => parseTimestamp(text).toISOString();
    if (oid === INT8) return Number;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** A pool on the database at `url`, its schema migrated to this Platen's. */
export async function openDb(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, types });
  // An idle connection the server ends (a restart, a failover) leaves the pool, which opens another
  // for the next query; unheard, its error would end the process.
  pool.on('error', () => {});
  try {
    await transaction(pool, migrate);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

async function migrate(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await tx.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version INTEGER PRIMARY KEY,
       applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await tx.query<{ current: number }>(
    'SELECT coalesce(max(version), 0) AS current FROM schema_migrations',
  );
  const current = rows[0]!.current;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database is at schema version ${current}, newer than this Platen (${MIGRATIONS.length})`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    await tx.query(MIGRATIONS[version]!);
    await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
  }
}

/** Runs `work` in a transaction on one connection of the pool: committed if it returns, else rolled back. */
export async function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await db.connect();
  // A connection that cannot even roll back is broken: the pool closes it rather than lend it again.
  let broken: Error | undefined;
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (error) {
    await tx.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    tx.release(broken);
  }
}

export function now(): string {
  return new Date().toISOString();
}
