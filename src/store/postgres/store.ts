import type { BlobStore, ObjectStore, Store } from '../store.js';
import { type Db, openDb } from './db.js';
import { PostgresJobStore } from './jobs.js';
import { PostgresKeyStore } from './keys.js';
import { PostgresPeopleStore } from './people.js';
import { PostgresPieceStore } from './pieces.js';
import { PostgresRateLimitStore } from './rate-limits.js';
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
  readonly rateLimits: PostgresRateLimitStore;

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
    this.rateLimits = new PostgresRateLimitStore(db);
  }

  /** Connects to the database at `url` and brings its schema up to this Platen's. */
  static async open(url: string, blobs: BlobStore, objects: ObjectStore): Promise<PostgresStore> {
    return new PostgresStore(await openDb(url), blobs, objects);
  }

  /**
   * A session-level advisory lock, on a connection held until `work` ends: a node that dies ends its
   * connection, and with it the lock.
   */
  async exclusively<T>(name: string, work: () => Promise<T>): Promise<T> {
    const connection = await this.db.connect();
    let broken: Error | undefined;
    try {
      await connection.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      try {
        return await work();
      } finally {
        await connection.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch((error: unknown) => {
          // A connection that cannot unlock is closed, which unlocks.
          broken = error instanceof Error ? error : new Error(String(error));
        });
      }
    } finally {
      connection.release(broken);
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
    await this.db.end();
  }
}
