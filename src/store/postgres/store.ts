import type { BlobStore, ObjectStore, Store } from '../store.js';
import { type Db, openDb } from './db.js';
import { PostgresJobStore } from './jobs.js';
import { PostgresKeyStore } from './keys.js';
import { PostgresPeopleStore } from './people.js';
import { PostgresPieceStore } from './pieces.js';
import { PostgresRenderStore } from './renders.js';
import { PostgresRepStore } from './reps.js';
import { PostgresSessionStore } from './sessions.js';
import { PostgresSettingsStore } from './settings.js';
import { PostgresTemplateStore } from './templates.js';
import { PostgresUploadStore } from './uploads.js';
import { PostgresWebhookStore } from './webhooks.js';

/**
 * The networked store: rows in PostgreSQL (`PLATEN_DATABASE_URL`), shared by every node, and the
 * blobs and objects (template packages, jobs' files) it is given.
 */
export class PostgresStore implements Store {
  readonly keys: PostgresKeyStore;
  readonly sessions: PostgresSessionStore;
  readonly people: PostgresPeopleStore;
  readonly reps: PostgresRepStore;
  readonly templates: PostgresTemplateStore;
  readonly renders: PostgresRenderStore;
  readonly uploads: PostgresUploadStore;
  readonly jobs: PostgresJobStore;
  readonly pieces: PostgresPieceStore;
  readonly webhooks: PostgresWebhookStore;
  readonly settings: PostgresSettingsStore;

  private constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
    readonly objects: ObjectStore,
  ) {
    this.keys = new PostgresKeyStore(db);
    this.sessions = new PostgresSessionStore(db);
    this.people = new PostgresPeopleStore(db);
    this.reps = new PostgresRepStore(db);
    this.templates = new PostgresTemplateStore(db, objects);
    this.renders = new PostgresRenderStore(db);
    this.uploads = new PostgresUploadStore(db);
    this.jobs = new PostgresJobStore(db);
    this.pieces = new PostgresPieceStore(db);
    this.webhooks = new PostgresWebhookStore(db);
    this.settings = new PostgresSettingsStore(db);
  }

  /** Connects to the database at `url` and brings its schema up to this Platen's. */
  static async open(url: string, blobs: BlobStore, objects: ObjectStore): Promise<PostgresStore> {
    return new PostgresStore(await openDb(url), blobs, objects);
  }

  async sweep(): Promise<string[]> {
    return [
      ...(await this.blobs.sweep()),
      ...(await this.objects.sweep()),
      ...(await this.templates.sweep()),
    ];
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
