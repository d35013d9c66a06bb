import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { folderEntries } from '../files.js';
import { type ChunkStore, checkKey } from '../jobs/chunk-store.js';
import { type ChunkDispatcher, WorkerPool } from '../jobs/dispatch.js';
import { ChunkWorker, QueueDispatcher } from '../jobs/queue.js';
import { LocalBlobStore } from '../store/local-blobs.js';
import { LocalObjectStore } from '../store/local-objects.js';
import { ObjectBlobStore } from '../store/object-blobs.js';
import { PostgresStore } from '../store/postgres/store.js';
import { s3Client, S3ObjectStore } from '../store/s3-objects.js';
import { SqliteStore } from '../store/sqlite/store.js';
import { type ObjectStore, type Store, SWEEP_AFTER_MS } from '../store/store.js';
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
 * The one place that chooses the store's adapters: rows in PostgreSQL when a database URL is
 * configured, else in SQLite under the data directory; blobs and objects (packages, jobs' files) as
 * local files under the data directory, or in S3 when PLATEN_BLOB_URL is set (local copies of S3
 * objects cached under `<dataDir>/cache`). Every service gets the Store interface only.
 */
async function openStore(config: Pick<Config, 'dataDir' | 'databaseUrl' | 's3'>): Promise<Store> {
  const objects = openObjects(config);
  const blobs = config.s3 ? new ObjectBlobStore(objects) : new LocalBlobStore(join(config.dataDir, 'blobs'));
  return config.databaseUrl
    ? PostgresStore.open(config.databaseUrl, blobs, objects)
    : new SqliteStore(config.dataDir, blobs, objects);
}

/** Objects every node shares: local files under the data directory, or S3's. */
function openObjects(config: Pick<Config, 'dataDir' | 's3'>): ObjectStore {
  const { dataDir, s3 } = config;
  return s3
    ? new S3ObjectStore(s3Client(s3), s3.bucket, s3.prefix, join(dataDir, 'cache'))
    : new LocalObjectStore(dataDir);
}

/**
 * Where a chunk queue's coordinators and workers share tasks, packages and parts: the objects under
 * `chunks/` (a folder of the data directory, for the API nodes and workers of one machine or a shared
 * mount; S3, for any number of machines).
 */
export function openChunkStore(config: Pick<Config, 'dataDir' | 's3'>): ChunkStore {
  return chunkStoreOver(openObjects(config));
}

/** The chunk store over objects opened already: the service's own, under `chunks/`. */
function chunkStoreOver(objects: ObjectStore): ChunkStore {
  const key = (name: string) => `chunks/${checkKey(name)}`;
  return {
    async put(name, body) {
      await objects.write(key(name), async (out) => {
        if (Buffer.isBuffer(body)) out.end(body);
        else await pipeline(body, out);
      });
    },
    async get(name) {
      return objects.read(key(name));
    },
    async delete(name) {
      await objects.delete(key(name));
    },
  };
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
  /** The process's worker threads: single renders and previews, and batch chunks behind them. */
  readonly pool: WorkerPool;
  /** Where batch jobs' chunks go: the pool above, or the queue (PLATEN_DATABASE_URL). */
  private readonly dispatcher: ChunkDispatcher;
  /** With a queue, the pool taking chunks from it too (none with PLATEN_BATCH_WORKERS=0). */
  private readonly chunkWorker: { worker: Promise<ChunkWorker>; dir: string } | null = null;

  /**
   * How old what a sweep removes must be: on a database other nodes may share, what another node is
   * storing this moment is left alone (see SWEEP_AFTER_MS); alone, everything a crash left goes.
   */
  private readonly sweepAfterMs: number;

  /** `store` is the services' own: for tests that look beneath them. */
  constructor(
    readonly store: Store,
    config: Config,
    log: Logger,
  ) {
    this.stagingDir = join(config.dataDir, 'staging');
    this.sweepAfterMs = config.databaseUrl === null ? 0 : SWEEP_AFTER_MS;
    mkdirSync(this.stagingDir, { recursive: true });
    // An API node that leaves chunks to `platen worker` processes still draws its renders here.
    this.pool = new WorkerPool(config.batchWorkers > 0 ? config.batchWorkers : config.renderConcurrency);
    if (config.databaseUrl === null) this.dispatcher = this.pool;
    else {
      const chunks = chunkStoreOver(store.objects);
      this.dispatcher = new QueueDispatcher(
        config.databaseUrl,
        config.queue,
        chunks,
        config.queueConcurrency,
        (error) => log.warn({ err: error }, 'the chunk queue met an error'),
        this.pool,
      );
      if (config.batchWorkers > 0) {
        const dir = mkdtempSync(join(tmpdir(), 'platen-worker-'));
        const worker = ChunkWorker.start({
          url: config.databaseUrl,
          queue: config.queue,
          store: chunks,
          pool: this.pool,
          dir,
          onError: (error) => log.warn({ err: error }, 'the chunk queue met an error'),
        });
        worker.catch((error: unknown) => log.error({ err: error }, 'cannot take chunks from the queue'));
        this.chunkWorker = { worker, dir };
      }
    }
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
    this.designer = new DesignerService(store, this.templates, this.pool, this.stagingDir);
    this.webhooks = new WebhookService(store, { retryMs: config.webhookRetryMs }, log);
    this.pieces = new PieceService(
      store,
      this.templates,
      config.publicUrl,
      (type, pieces, dataOf, idOf) => this.webhooks.emit(type, pieces, dataOf, idOf),
      this.pool,
    );
    this.renders = new RenderService(store, this.templates, this.pieces, this.pool);
    this.results = new ResultsService(store);
    this.jobs = new JobService(
      store,
      { jobs: join(config.dataDir, 'jobs'), staging: this.stagingDir },
      this.templates,
      this.renders,
      this.pieces,
      this.dispatcher,
      log,
      config.jobLeaseMs,
      this.sweepAfterMs,
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
    return [...staged, ...(await this.store.sweep(Date.now() - this.sweepAfterMs))];
  }

  /**
   * Stops the batch workers and closes the store. Stop the jobs and the webhook deliveries first
   * (JobService.stop, WebhookService.stop).
   */
  async close(): Promise<void> {
    if (this.chunkWorker) {
      const { worker, dir } = this.chunkWorker;
      await (await worker.catch(() => null))?.close();
      await rm(dir, { recursive: true, force: true });
    }
    if (this.dispatcher !== this.pool) await this.dispatcher.close();
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
  config: Pick<Config, 'dataDir' | 'databaseUrl' | 's3'>,
): Promise<{ keys: KeyService; close(): Promise<void> }> {
  const store = await openStore(config);
  return { keys: new KeyService(store), close: () => store.close() };
}
