import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore, ObjectStore, Store } from '../store.js';
import { type Db, openDb } from './db.js';
import { SqliteJobStore } from './jobs.js';
import { SqliteKeyStore } from './keys.js';
import { SqlitePeopleStore } from './people.js';
import { SqlitePieceStore } from './pieces.js';
import { SqliteRenderStore } from './renders.js';
import { SqliteRepStore } from './reps.js';
import { SqliteSessionStore } from './sessions.js';
import { SqliteSettingsStore } from './settings.js';
import { SqliteTemplateStore } from './templates.js';
import { SqliteUploadStore } from './uploads.js';
import { SqliteWebhookStore } from './webhooks.js';

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
  }

  async sweep(): Promise<string[]> {
    return [
      ...(await this.blobs.sweep()),
      ...(await this.objects.sweep()),
      ...(await this.templates.sweep()),
    ];
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
