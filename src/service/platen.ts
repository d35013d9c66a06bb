import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config, S3Config } from '../config.js';
import { folderEntries } from '../files.js';
import { WorkerPool } from '../jobs/dispatch.js';
import { LocalBlobStore } from '../store/local-blobs.js';
import { LocalObjectStore } from '../store/local-objects.js';
import { ObjectBlobStore } from '../store/object-blobs.js';
import { s3Client, S3ObjectStore } from '../store/s3-objects.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store } from '../store/store.js';
import { TemplateCache } from '../template/cache.js';
import { DesignerService } from './designer.js';
import { JobService } from './jobs.js';
import { KeyService } from './keys.js';
import { PeopleService } from './people.js';
import { PieceService } from './pieces.js';
import { ProfileService } from './profiles.js';
import { RenderService } from './render.js';
import { ResultsService } from './results.js';
import { SessionService } from './sessions.js';
import { SettingsService } from './settings.js';
import { TemplateService } from './templates.js';
import { WebhookService } from './webhooks.js';

/**
 * Compiled drafts kept for previews: each change of a draft is a new one, so only the latest few are
 * worth keeping (each holds its fonts and images in memory).
 */
const DRAFT_CACHE = 4;

/**
 * The one place that chooses the store's adapters: SQLite rows under the data directory; blobs and
 * objects (packages, jobs' files) as local files there, or in S3 when configured (local copies of
 * S3 objects are cached under `<dataDir>/cache`). Every service gets the Store interface only.
 */
function openStore(dataDir: string, s3: S3Config | null = null): Store {
  if (!s3)
    return new SqliteStore(
      dataDir,
      new LocalBlobStore(join(dataDir, 'blobs')),
      new LocalObjectStore(dataDir),
    );
  const objects = new S3ObjectStore(s3Client(s3), s3.bucket, s3.prefix, join(dataDir, 'cache'));
  return new SqliteStore(dataDir, new ObjectBlobStore(objects), objects);
}

/**
 * Platen's services over one data directory, wired together: what the faces (the server, the CLI)
 * work with. The faces call these, never the store.
 */
export class Platen {
  readonly templates: TemplateService;
  readonly designer: DesignerService;
  readonly renders: RenderService;
  readonly pieces: PieceService;
  readonly results: ResultsService;
  readonly jobs: JobService;
  readonly profiles: ProfileService;
  readonly keys: KeyService;
  readonly sessions: SessionService;
  readonly people: PeopleService;
  readonly webhooks: WebhookService;
  readonly settings: SettingsService;
  /** Scratch space on the data directory's file system: request bodies land here, packages unpack here. */
  readonly stagingDir: string;
  private readonly pool: WorkerPool;

  /** `store` is the services' own: for tests that look beneath them. */
  constructor(
    readonly store: Store,
    config: Config,
    log: Logger,
  ) {
    this.stagingDir = join(config.dataDir, 'staging');
    mkdirSync(this.stagingDir, { recursive: true });
    this.pool = new WorkerPool(config.batchWorkers);
    this.settings = new SettingsService(store, {
      requireApproval: config.requireApproval,
      retentionDays: config.retentionDays,
    });
    this.templates = new TemplateService(
      store,
      new TemplateCache(config.templateCache),
      this.stagingDir,
      this.settings,
    );
    // Drafts being designed: a few per person at work, each compiled once per change.
    this.designer = new DesignerService(
      store,
      this.templates,
      new TemplateCache(DRAFT_CACHE),
      this.stagingDir,
    );
    this.webhooks = new WebhookService(store, { retryMs: config.webhookRetryMs }, log);
    this.pieces = new PieceService(store, this.templates, config.publicUrl, (type, pieces, dataOf, idOf) =>
      this.webhooks.emit(type, pieces, dataOf, idOf),
    );
    this.renders = new RenderService(store, this.templates, this.pieces);
    this.results = new ResultsService(store);
    this.jobs = new JobService(
      store,
      { jobs: join(config.dataDir, 'jobs'), staging: this.stagingDir },
      this.templates,
      this.renders,
      this.pieces,
      this.pool,
      log,
    );
    this.profiles = new ProfileService(store, this.templates);
    this.keys = new KeyService(store);
    this.sessions = new SessionService(store);
    this.people = new PeopleService(store);
  }

  /**
   * Removes what a crash (a kill, a power cut) leaves half done: unpacked uploads and lists in
   * staging, and what the store's sweep removes. Returns what was removed. For the service at
   * start-up only: other commands may use the data directory while it runs, and staging is the
   * service's alone. The jobs have their own sweep (JobService.sweep), run after this one.
   */
  async sweep(): Promise<string[]> {
    const staged = (await folderEntries(this.stagingDir)).map((name) => join(this.stagingDir, name));
    for (const path of staged) await rm(path, { recursive: true, force: true });
    return [...staged, ...(await this.store.sweep())];
  }

  /**
   * Stops the batch workers and closes the store. Stop the jobs and the webhook deliveries first
   * (JobService.stop, WebhookService.stop).
   */
  async close(): Promise<void> {
    await this.pool.close();
    await this.store.close();
  }
}

/** Platen's services over the configured data directory, with a worker pool for batch jobs. */
export function openPlaten(config: Config, log: Logger): Platen {
  return new Platen(openStore(config.dataDir, config.s3), config, log);
}

/**
 * Just the keys of a data directory, for the CLI's key commands: no worker pool is started. The
 * caller closes it.
 */
export function openKeys(dataDir: string): { keys: KeyService; close(): Promise<void> } {
  const store = openStore(dataDir);
  return { keys: new KeyService(store), close: () => store.close() };
}
