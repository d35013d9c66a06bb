import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PgBoss } from 'pg-boss';
import type { ChunkResult, ChunkTask } from './chunk.js';
import type { ChunkStore } from './chunk-store.js';
import type { ChunkDispatcher } from './dispatch.js';

/**
 * Chunks as jobs of a durable queue on PostgreSQL (pg-boss), so that `platen worker` processes on any
 * machine render them. pg-boss, because Platen already needs PostgreSQL to share its store across
 * machines: the queue is a few tables beside it, claimed with SKIP LOCKED, with the retries,
 * heartbeats and expiry a chunk needs, and no second server (Redis) to run.
 *
 * A coordinator (QueueDispatcher: the API node or CLI running the job) puts each chunk's task in the
 * shared ChunkStore and sends its key; a worker (ChunkWorker) takes it, renders it on its own worker
 * pool, puts the part in the store and completes the job with the chunk's result; the coordinator
 * polls for its jobs' ends and fetches each part to where the batch joins it. A worker heartbeats
 * while it renders: one that dies (kill -9, a lost machine) stops, and after HEARTBEAT_SECONDS the
 * queue gives its chunk to another worker, at most RETRIES more times. That is at-least-once
 * delivery; the output is exactly once because a chunk renders to the same bytes wherever it runs
 * (ids and dates are the job's, see ChunkTask.created), a part is replaced whole, and each chunk's
 * result is taken once, by the coordinator, which then deletes the job.
 */

/** Seconds without a heartbeat after which a chunk's worker is taken for dead (pg-boss's least). */
const HEARTBEAT_SECONDS = 10;
/** How often the queue looks for dead workers' chunks (and expired ones): a dead worker costs at most this more. */
const SUPERVISE_SECONDS = 5;
/** Tries of a chunk after its first: a chunk that fails this often fails its job. */
const RETRIES = 3;
/** How often a coordinator looks for its chunks' ends. */
const POLL_MS = 250;
/** How long the queue may be unreadable (a database restarting) before the chunks waiting fail. */
const UNREAD_MS = 30_000;

/** The queue's policy, set where it is created. */
const QUEUE_POLICY = {
  heartbeatSeconds: HEARTBEAT_SECONDS,
  retryLimit: RETRIES,
  retryDelay: 1,
  // A chunk's worker heartbeats, so this only bounds one that hangs alive: far above any chunk's time.
  expireInSeconds: 3600,
  // Chunks the coordinator never took (it died): gone after a day.
  deleteAfterSeconds: 86_400,
  retentionSeconds: 86_400,
};

/** A queue job's data: small, the task itself is in the store. */
interface QueuedChunk {
  /** The coordinator that sent it, which alone takes its result. */
  coordinator: string;
  /** The task's key in the chunk store (a SharedTask, as JSON). */
  task: string;
  index: number;
}

/** A template package's files: relative path → the key of its bytes in the store. */
type PackageFiles = Record<string, string>;

/** A chunk's task as workers elsewhere read it: its package and its part named in the store. */
interface SharedTask extends Omit<ChunkTask, 'template' | 'part'> {
  template: { files: PackageFiles; version?: number; marks?: boolean };
  /** The part's key in the store; null for a check. */
  part: string | null;
}

/** Opens pg-boss on a database, with the queue made (if new) with Platen's chunk policy. */
async function openQueue(url: string, queue: string, onError: (error: Error) => void): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    superviseIntervalSeconds: SUPERVISE_SECONDS,
    monitorIntervalSeconds: SUPERVISE_SECONDS,
    schedule: false,
  });
  boss.on('error', onError);
  await boss.start();
  if (!(await boss.getQueue(queue))) {
    // Two processes starting at once may both find none: the second's create is refused, harmlessly.
    await boss.createQueue(queue, QUEUE_POLICY).catch(async (error: unknown) => {
      if (!(await boss.getQueue(queue))) throw error;
    });
  }
  return boss;
}

interface Waiter {
  index: number;
  resolve(result: ChunkResult): void;
  reject(error: Error): void;
}

/** Runs chunks as queue jobs and waits for workers to render them (see the top of this file). */
export class QueueDispatcher implements ChunkDispatcher {
  private readonly id = randomUUID();
  private readonly boss: Promise<PgBoss>;
  /** This coordinator's chunks in the queue, by job id. */
  private readonly waiting = new Map<string, Waiter>();
  /** Each package's files, put in the store once per dispatcher (a stored version never changes). */
  private readonly packages = new Map<string, Promise<PackageFiles>>();
  private poller: NodeJS.Timeout | null = null;
  /** A poll is under way: the next tick skips. */
  private polling = false;
  /** When polls began to fail, while they do. */
  private unreadSince: number | null = null;

  /**
   * `concurrency`: chunks the workers render at once, all machines together; a job keeps about
   * twice that many queued.
   */
  constructor(
    url: string,
    private readonly queue: string,
    private readonly store: ChunkStore,
    readonly concurrency: number,
    /** Told of what fails in pg-boss's own upkeep (supervision, maintenance): the chunks go on. */
    onError: (error: Error) => void = () => undefined,
    /** This machine's threads, which relocate the parts the workers send back (see ChunkDispatcher). */
    private readonly threads?: Pick<ChunkDispatcher, 'relocate'>,
  ) {
    this.boss = openQueue(url, queue, onError);
    this.boss.catch(() => undefined); // met by run() and close()
  }

  get relocate(): ChunkDispatcher['relocate'] {
    return this.threads?.relocate?.bind(this.threads);
  }

  async run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    signal?.throwIfAborted();
    const boss = await this.boss;
    const { dir, ...template } = task.template;
    const name = randomUUID();
    const shared: SharedTask = {
      ...task,
      template: { ...template, files: await this.packageFiles(dir, template.version) },
      part: task.part === null ? null : `parts/${name}.part`,
    };
    const taskKey = `tasks/${name}.json`;
    await this.store.put(taskKey, Buffer.from(JSON.stringify(shared, bytesOut)));
    try {
      const data: QueuedChunk = { coordinator: this.id, task: taskKey, index: task.index };
      const jobId = await boss.send(this.queue, data);
      if (jobId === null) throw new Error(`the queue ${this.queue} refused chunk ${task.index}`);
      const result = await this.settled(boss, jobId, task.index, signal);
      if (result.part === null || shared.part === null || task.part === null)
        return { ...result, part: null };
      const part = await this.store.get(shared.part);
      if (!part) throw new Error(`chunk ${task.index}'s part is missing from the chunk store`);
      await pipeline(part, createWriteStream(task.part));
      return { ...result, part: task.part };
    } finally {
      await this.store.delete(taskKey);
      if (shared.part) await this.store.delete(shared.part);
    }
  }

  /** A chunk's result, once a worker has completed its job; throws once it has failed for good. */
  private settled(boss: PgBoss, jobId: string, index: number, signal?: AbortSignal): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.delete(jobId);
        // Gone from the queue: a worker drawing it stops at its next heartbeat, which finds no claim.
        boss.deleteJob(this.queue, jobId).catch(() => undefined);
        reject(signal!.reason as Error);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.waiting.set(jobId, {
        index,
        resolve: (result) => (done(), resolve(result)),
        reject: (error) => (done(), reject(error)),
      });
      this.poller ??= setInterval(() => {
        this.poll(boss).then(
          () => (this.unreadSince = null),
          // A queue that cannot be read for a while (not a moment's blip) fails every chunk waiting.
          (error: unknown) => {
            this.unreadSince ??= performance.now();
            if (performance.now() - this.unreadSince > UNREAD_MS) this.failAll(error as Error);
          },
        );
      }, POLL_MS);
    });
  }

  /** Takes the results of this coordinator's chunks that have ended, once each, and removes their jobs. */
  private async poll(boss: PgBoss): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const jobs = await boss.findJobs<QueuedChunk>(this.queue, { data: { coordinator: this.id } });
      for (const job of jobs) {
        const waiter = this.waiting.get(job.id);
        if (!waiter || (job.state !== 'completed' && job.state !== 'failed' && job.state !== 'cancelled'))
          continue;
        // Taken once: a later report of the same chunk finds no waiter (and no job) and is ignored.
        this.waiting.delete(job.id);
        if (job.state === 'completed') waiter.resolve(job.output as ChunkResult);
        else waiter.reject(chunkFailure(waiter.index, job.retryCount + 1, job.state, job.output));
        await boss.deleteJob(this.queue, job.id);
      }
    } finally {
      this.polling = false;
      if (this.waiting.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = null;
      }
    }
  }

  /** The queue cannot be read (or the dispatcher closes): every chunk waiting fails its job with why. */
  private failAll(error: Error): void {
    const failure = new Error(`the chunk queue failed: ${error.message}`, { cause: error });
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.reject(failure);
    }
  }

  /** A package's files, put in the store by content (each file once, whatever its version). */
  private packageFiles(dir: string, version: number | undefined): Promise<PackageFiles> {
    const cacheKey = `${dir}@${version ?? ''}`;
    let files = this.packages.get(cacheKey);
    if (!files) {
      files = putPackage(this.store, dir);
      files.catch(() => this.packages.delete(cacheKey));
      this.packages.set(cacheKey, files);
    }
    return files;
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.failAll(new Error('the dispatcher closed'));
    const boss = await this.boss.catch(() => null);
    await boss?.stop({ graceful: false });
  }
}

async function putPackage(store: ChunkStore, dir: string): Promise<PackageFiles> {
  const files: PackageFiles = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path);
    const key = `packages/${createHash('sha256').update(bytes).digest('hex')}`;
    await store.put(key, bytes);
    files[relative(dir, path).split('\\').join('/')] = key;
  }
  return files;
}

/** Why a chunk failed for good, for the job's failure. */
function chunkFailure(index: number, tries: number, state: string, output: unknown): Error {
  // A worker's error is its message; pg-boss's own (a heartbeat lost, an expiry) is under `value`.
  const { message, value } = (output ?? {}) as { message?: unknown; value?: { message?: unknown } };
  const why = typeof message === 'string' ? message : value?.message;
  const reason =
    state === 'cancelled'
      ? 'it was cancelled'
      : why === 'job heartbeat timeout'
        ? 'its worker stopped answering (a crash, or a lost machine)'
        : typeof why === 'string'
          ? why
          : 'no reason given';
  return new Error(`chunk ${index + 1} of the job failed on ${tries} tries by the workers: ${reason}`);
}

/** Options of a `platen worker`. */
export interface ChunkWorkerOptions {
  url: string;
  queue: string;
  store: ChunkStore;
  /** Renders the chunks, on this machine's cores. */
  pool: ChunkDispatcher;
  /** This worker's own scratch folder: packages unpacked, parts before they are put in the store. */
  dir: string;
  /** Told of each chunk taken and ended (the command's log). */
  onChunk?: (event: {
    index: number;
    job: string;
    state: 'taken' | 'done' | 'failed';
    error?: Error;
  }) => void;
  onError?: (error: Error) => void;
}

/** Takes chunks from the queue and renders them (see the top of this file), until closed. */
export class ChunkWorker {
  /** Packages fetched into the scratch folder, by the hash of their files. */
  private readonly packages = new Map<string, Promise<string>>();

  private constructor(
    private readonly boss: PgBoss,
    private readonly options: ChunkWorkerOptions,
  ) {}

  static async start(options: ChunkWorkerOptions): Promise<ChunkWorker> {
    const boss = await openQueue(options.url, options.queue, options.onError ?? (() => undefined));
    const worker = new ChunkWorker(boss, options);
    await mkdir(join(options.dir, 'parts'), { recursive: true });
    await boss.work<QueuedChunk, ChunkResult>(
      options.queue,
      { localConcurrency: options.pool.concurrency, pollingIntervalSeconds: 0.5 },
      async ([job]) => worker.render(job!.id, job!.data, job!.signal),
    );
    return worker;
  }

  private async render(jobId: string, data: QueuedChunk, signal: AbortSignal): Promise<ChunkResult> {
    const { store, pool, dir, onChunk } = this.options;
    onChunk?.({ index: data.index, job: jobId, state: 'taken' });
    const local = join(dir, 'parts', `${randomUUID()}.part`);
    try {
      const body = await store.get(data.task);
      if (!body) throw new Error(`chunk ${data.index}'s task is missing from the chunk store`);
      const shared = JSON.parse((await text(body)) as string, bytesIn) as SharedTask;
      const { files, ...template } = shared.template;
      const task: ChunkTask = {
        ...shared,
        template: { ...template, dir: await this.packageDir(files) },
        part: shared.part === null ? null : local,
      };
      const result = await pool.run(task, signal);
      if (result.part !== null) await store.put(shared.part!, createReadStream(local));
      onChunk?.({ index: data.index, job: jobId, state: 'done' });
      return { ...result, part: result.part === null ? null : shared.part };
    } catch (error) {
      onChunk?.({ index: data.index, job: jobId, state: 'failed', error: error as Error });
      throw error;
    } finally {
      await rm(local, { force: true });
    }
  }

  /** A package's folder in the scratch folder, fetched from the store once. */
  private packageDir(files: PackageFiles): Promise<string> {
    const id = createHash('sha256')
      .update(JSON.stringify(Object.entries(files).sort()))
      .digest('hex');
    let dir = this.packages.get(id);
    if (!dir) {
      dir = this.fetchPackage(id, files);
      dir.catch(() => this.packages.delete(id));
      this.packages.set(id, dir);
    }
    return dir;
  }

  private async fetchPackage(id: string, files: PackageFiles): Promise<string> {
    const dir = join(this.options.dir, 'packages', id);
    const temp = `${dir}.${randomUUID()}.tmp`;
    for (const [path, key] of Object.entries(files)) {
      const target = join(temp, path);
      if (relative(temp, target).startsWith('..'))
        throw new Error(`a package file outside its package: ${path}`);
      const body = await this.options.store.get(key);
      if (!body) throw new Error(`a package file is missing from the chunk store: ${path}`);
      await mkdir(dirname(target), { recursive: true });
      await pipeline(body, createWriteStream(target));
    }
    await rename(temp, dir);
    return dir;
  }

  /** Stops taking chunks; those being rendered are given up, for the queue to retry elsewhere. */
  async close(): Promise<void> {
    await this.boss.stop({ graceful: false });
  }
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON for bytes (a rep's photos): base64, where JSON.stringify would write every byte as a number. */
function bytesOut(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array ? { $base64: Buffer.from(raw).toString('base64') } : value;
}

function bytesIn(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const { $base64 } = value as { $base64?: unknown };
  return typeof $base64 === 'string' && Object.keys(value).length === 1
    ? Buffer.from($base64, 'base64')
    : value;
}
