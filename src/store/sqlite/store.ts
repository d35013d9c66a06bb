import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { BlobStore, ObjectStore, Store } from '../store.js';
import { type Db, openDb } from './db.js';
import { SqliteJobStore } from './jobs.js';
import { SqliteKeyStore } from './keys.js';
import { SqlitePeopleStore } from './people.js';
import { SqlitePieceStore } from './pieces.js';
import { SqliteRateLimitStore } from './rate-limits.js';
import { SqliteRenderStore } from './renders.js';
import { SqliteRepStore } from './reps.js';
import { SqliteSessionStore } from './sessions.js';
import { SqliteSettingsStore } from './settings.js';
import { SqliteTemplateStore } from './templates.js';
import { SqliteUploadStore } from './uploads.js';
import { SqliteWebhookStore } from './webhooks.js';

/** How long a lock outlives a holder that died, and how often one waiting for it looks again. */
const LOCK_LEASE_MS = 30_000;
const LOCK_POLL_MS = 50;

/**
 * The embedded store: SQLite for rows (`<dataDir>/platen.db`), and the blobs and objects (template
 * packages, jobs' files) it is given.
 */
export class SqliteStore implements Store {
  readonly db: Db;
  readonly keys: SqliteKeyStore;
  readonly sessions: SqliteSessionStore;
  readonly people: SqlitePeopleStore;
  readonly reps: SqliteRepStore;
  readonly templates: SqliteTemplateStore;
  readonly renders: SqliteRenderStore;
  readonly uploads: SqliteUploadStore;
  readonly jobs: SqliteJobStore;
  readonly pieces: SqlitePieceStore;
  readonly webhooks: SqliteWebhookStore;
  readonly settings: SqliteSettingsStore;
  readonly rateLimits: SqliteRateLimitStore;

  constructor(
    dataDir: string,
    readonly blobs: BlobStore,
    readonly objects: ObjectStore,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.db = openDb(join(dataDir, 'platen.db'));
    this.keys = new SqliteKeyStore(this.db);
    this.sessions = new SqliteSessionStore(this.db);
    this.people = new SqlitePeopleStore(this.db);
    this.reps = new SqliteRepStore(this.db);
    this.templates = new SqliteTemplateStore(this.db, objects);
    this.renders = new SqliteRenderStore(this.db);
    this.uploads = new SqliteUploadStore(this.db);
    this.jobs = new SqliteJobStore(this.db);
    this.pieces = new SqlitePieceStore(this.db);
    this.webhooks = new SqliteWebhookStore(this.db);
    this.settings = new SqliteSettingsStore(this.db);
    this.rateLimits = new SqliteRateLimitStore(this.db);
  }

  /**
   * A row in `locks`, taken when it is free or its lease has run out, renewed while `work` runs:
   * processes sharing the file have no connection to end, so a holder that dies lets go when its
   * lease runs out.
   */
  async exclusively<T>(name: string, work: () => Promise<T>): Promise<T> {
    const holder = randomBytes(8).toString('hex');
    const take = this.db.prepare(
      `INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE locks.expires_at < ?`,
    );
    while (take.run(name, holder, Date.now() + LOCK_LEASE_MS, Date.now()).changes === 0)
      await sleep(LOCK_POLL_MS);
    const renew = setInterval(() => {
      this.db
        .prepare('UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?')
        .run(Date.now() + LOCK_LEASE_MS, name, holder);
    }, LOCK_LEASE_MS / 3);
    try {
      return await work();
    } finally {
      clearInterval(renew);
      this.db.prepare('DELETE FROM locks WHERE name = ? AND holder = ?').run(name, holder);
    }
  }

  async sweep(writtenBefore: number): Promise<string[]> {
    return [
      ...(await this.blobs.sweep()),
      ...(await this.objects.sweep()),
      ...(await this.templates.sweep(writtenBefore)),
    ];
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
