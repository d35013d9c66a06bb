import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { folderEntries } from '../files.js';
import { WorkerPool } from '../jobs/dispatch.js';
import { LocalBlobStore } from '../store/local-blobs.js';
import { PostgresStore } from '../store/postgres/store.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store } from '../store/store.js';
import { TemplateCache } from '../template/cache.js';
import { DesignerService } from './designer.js';
import { JobService } from './jobs.js';
import { KeyService } from './keys.js';
import { PeopleService } from './people.js';
import { PieceService } from './pieces.js';
import { ProfileService } from './profiles.js';
import { RateLimitService } from './rate-limits.js';
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
 * The one place that chooses the store's adapters: rows in PostgreSQL when a database URL is
 * configured, else in SQLite under the data directory; local-file blobs under the data directory.
 * Every service gets the Store interface only.
 */
async function openStore(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Store> {
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  return config.databaseUrl
    ? PostgresStore.open(config.databaseUrl, config.dataDir, blobs)
    : new SqliteStore(config.dataDir, blobs);
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
  readonly rateLimits: RateLimitService;
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
      config.jobLeaseMs,
    );
    this.profiles = new ProfileService(store, this.templates);
    this.keys = new KeyService(store);
    this.sessions = new SessionService(store);
    this.people = new PeopleService(store);
    this.rateLimits = new RateLimitService(store);
  }

  /**
   * Runs `firstStart` (the bundled templates loaded, the first admin key made) if no key exists yet,
   * holding the store's lock for it: of nodes starting at once on a fresh store, one makes the first
   * start while the others wait, then find its key and go on. Returns whether it ran. A store with a
   * key is not locked (taking the lock writes, which a full disk refuses: the service starts anyway).
   */
  async onFirstStart(firstStart: () => Promise<void>): Promise<boolean> {
    if (await this.keys.any()) return false;
    return this.store.exclusively('first start', async () => {
      if (await this.keys.any()) return false;
      await firstStart();
      return true;
    });
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
export async function openPlaten(config: Config, log: Logger): Promise<Platen> {
  return new Platen(await openStore(config), config, log);
}

/**
 * Just the keys of the configured store, for the CLI's key commands: no worker pool is started. The
 * caller closes it.
 */
export async function openKeys(
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
): Promise<{ keys: KeyService; close(): Promise<void> }> {
  const store = await openStore(config);
  return { keys: new KeyService(store), close: () => store.close() };
}
