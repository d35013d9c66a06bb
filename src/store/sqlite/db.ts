import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Versioned migrations: migration N is the Nth entry, and `user_version` records the last one a
 * database has applied. Pending ones run once, in order, in one transaction on open. Append only: a
 * released migration is never edited (ARCHITECTURE.md, "Adding a migration").
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'marketing', 'rep')),
    rep_id TEXT REFERENCES reps(id),
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE TABLE reps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    license_number TEXT NOT NULL DEFAULT '',
    photo_sha256 TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE template_versions (
    template_id TEXT NOT NULL REFERENCES templates(id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    manifest TEXT NOT NULL,
    report TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_by TEXT,
    published_at TEXT,
    retired_by TEXT,
    retired_at TEXT,
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
    bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX renders_by_template ON renders(template_id, version);
  CREATE INDEX renders_by_rep ON renders(rep_id, created_at);
  `,
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    rep_id TEXT,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pdf', 'zip', 'check')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    spec TEXT NOT NULL,
    total INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    rendered INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
  );
  CREATE INDEX jobs_by_rep ON jobs(rep_id, created_at);
  CREATE TABLE job_chunks (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
  );
  `,
  `
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id),
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_key ON sessions(key_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  `,
  `
  CREATE TABLE uploads (
    sha256 TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (sha256, owner)
  );
  CREATE INDEX uploads_by_expiry ON uploads(expires_at);
  `,
  `
  ALTER TABLE renders ADD COLUMN piece_code TEXT;
  CREATE TABLE pieces (
    number INTEGER PRIMARY KEY,
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
    choices TEXT NOT NULL,
    variant TEXT,
    holdout INTEGER NOT NULL CHECK (holdout IN (0, 1)),
    edited TEXT NOT NULL,
    created_at TEXT NOT NULL,
    responses INTEGER NOT NULL DEFAULT 0,
    first_response_at TEXT,
    outcome TEXT,
    outcome_note TEXT,
    outcome_at TEXT
  );
  CREATE INDEX pieces_by_template ON pieces(template_id, created_at);
  CREATE INDEX pieces_by_rep ON pieces(rep_id, created_at);
  CREATE TABLE responses (
    number INTEGER NOT NULL REFERENCES pieces(number) ON DELETE CASCADE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('scan', 'visit')),
    device TEXT NOT NULL
  );
  CREATE INDEX responses_by_piece ON responses(number, at);
  CREATE TABLE piece_numbers (next INTEGER NOT NULL);
  INSERT INTO piece_numbers (next) VALUES (1);
  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE INDEX renders_by_piece ON renders(piece_code);
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT
  );
  CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    created_at TEXT NOT NULL,
    UNIQUE (event_id, webhook_id)
  );
  CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE state = 'pending';
  CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
  );
  CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts(webhook_id, id);
  ALTER TABLE jobs ADD COLUMN held_out INTEGER NOT NULL DEFAULT 0;
  `,
  // Who approved a draft for publishing, where the organisation requires a second person to.
  `
  ALTER TABLE template_versions ADD COLUMN approved_by TEXT;
  ALTER TABLE template_versions ADD COLUMN approved_at TEXT;
  `,
  // When each key was last used (written at most once a minute), and the organisation's settings an
  // admin changes on the pages (the environment gives their defaults).
  `
  ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // What the maker of a single piece entered: who it went to (searchable), and the values (JSON) to
  // make another like it. Erased and cut with the recipient.
  `
  ALTER TABLE pieces ADD COLUMN prospect_name TEXT;
  ALTER TABLE pieces ADD COLUMN entered TEXT;
  `,
  // People who sign in through the organisation's identity provider (by issuer and subject) or with
  // an email and password (an admin made them: no issuer); a session is a key's or a person's. The
  // sessions table is made again to let its key be empty: everyone signed in signs in once more.
  `
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
    password_link_expires_at INTEGER,
    created_at TEXT NOT NULL,
    last_sign_in_at TEXT,
    disabled_at TEXT,
    UNIQUE (issuer, subject),
    CHECK ((issuer IS NULL) = (subject IS NULL))
  );
  CREATE UNIQUE INDEX people_by_email ON people(email COLLATE NOCASE) WHERE issuer IS NULL;
  DROP TABLE sessions;
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    key_id TEXT REFERENCES api_keys(id),
    person_id TEXT REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    CHECK ((key_id IS NULL) <> (person_id IS NULL))
  );
  CREATE INDEX sessions_by_key ON sessions(key_id);
  CREATE INDEX sessions_by_person ON sessions(person_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  `,
  // The columns each person last mapped to a template's inputs, offered with their next list.
  `
  CREATE TABLE column_mappings (
    template_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    columns TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (template_id, owner)
  );
  `,
  // API nodes sharing one store: the node running each unfinished job and until when its lease holds
  // (epoch ms; it renews it while it runs, and another node takes the job once it runs out), named
  // locks with a lease (what one node does at a time: the first start), and rate limits' counts per
  // key in the current window.
  `
  ALTER TABLE jobs ADD COLUMN owner TEXT;
  ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL
  );
  `,
];

export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  // One immediate transaction: of two processes opening a new database at once (the service and a
  // CLI command), one migrates while the other waits, then reads the version it reached.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `database is at schema version ${current}, newer than this Platen (${MIGRATIONS.length})`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

export function now(): string {
  return new Date().toISOString();
}
