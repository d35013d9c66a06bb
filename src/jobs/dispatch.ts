import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Piscina } from 'piscina';
import { PlatenError, type Problem } from '../errors.js';
import type { RelocatedPart, RelocationPlan } from '../render/relocate.js';
import type { ChunkResult, ChunkTask } from './chunk.js';
import type { PieceResult, PieceTask, RasterTask } from './piece.js';

/**
 * Where a job's chunks are rendered. Jobs know only this interface: the pool below runs chunks on
 * this machine's cores; QueueDispatcher (queue.ts) sends them to `platen worker` processes on any
 * machine, since tasks and results are plain data.
 */
export interface ChunkDispatcher {
  /** How many chunks run at once: jobs keep about twice that many in flight. */
  readonly concurrency: number;
  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult>;
  /**
   * Makes a merged drop's part ready to join (render/relocate.ts), on threads of this machine, so the
   * joining thread only places it; without, the joining thread relocates parts itself.
   */
  relocate?(part: string, plan: RelocationPlan): Promise<RelocatedPart>;
  close(): Promise<void>;
}

/** Sources run under vitest (TypeScript through tsx); the built package runs its own JavaScript. */
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Sets the process-wide V8 flags a worker pool's heaps are tuned by. An entry point that runs a pool
 * (the CLI's batch, the server) calls it once, before the pool starts: V8 reads some of them only as
 * each new isolate (worker) starts.
 */
export function setWorkerHeapFlags(): void {
  // V8 puts --max-semi-space-size above every worker's own resourceLimits, and platen's shebang sets
  // it (4 MB) for the coordinating thread, under which a worker collects far more often (docs/perf.md).
  // The flag has sized this thread's heap already; cleared, it leaves the workers' heaps to their limits.
  setFlagsFromString('--max-semi-space-size=0');
  // A worker holds about 25 MB for good (engine, fonts, caches). From V8's default start its old
  // generation grows in small steps, each a full collection; starting at 48 MB spares most of them
  // (read by each new isolate, so by the workers only; docs/perf.md).
  setFlagsFromString('--initial-old-space-size=48');
  // How far an old generation grows past what survived a full collection before the next one. Every
  // full collection of a worker also keeps what its young generation held while marking ran, dead or
  // not: the tighter the limit, the more of those there are, each adding to the next. Twice what
  // survived runs a third fewer of them than V8's own choice for a 256 MB heap, and half the CPU for
  // collecting; half again (50) kept a drop's peak some 30 MB per worker lower at a quarter more CPU
  // in all (V8 reads this at every collection, for every isolate of the process; docs/perf.md).
  setFlagsFromString('--heap-growing-percent=100');
}

/** Where single pieces (the API's and the pages' renders and previews) are drawn. */
export interface PieceRunner {
  /**
   * Runs a piece ahead of every queued chunk. Once `signal` aborts, a queued piece leaves the queue
   * unrun and the promise rejects with the signal's reason at once, whether or not the piece started.
   */
  piece(task: PieceTask, signal: AbortSignal): Promise<PieceResult>;
  /** A page of a PDF as PNG (a kept piece's thumbnail), ahead of every queued chunk, as a piece. */
  rasterize(task: RasterTask, signal: AbortSignal): Promise<Uint8Array>;
}

/**
 * What waits for a thread: interactive pieces, whom a person waits for, go before batch chunks; a
 * part to relocate goes before chunks too, as the drop's output waits for it. Within a lane, first
 * come, first served.
 */
type Lane = 'interactive' | 'join' | 'batch';

interface Waiting {
  start(): void;
  /** Called when the task is dropped before it started. */
  drop(reason: unknown): void;
}

/**
 * A pool of worker threads, one per core unless told otherwise, shared by every job's chunks and every
 * single render and preview of the process. Its workers' heaps are tuned by setWorkerHeapFlags, which
 * the entry point calls first.
 *
 * The pool schedules its own tasks: a thread is handed a task only when it is free, taken from the
 * interactive lane before the batch lane, so a render waits at most for one chunk to end, never behind
 * a drop's queued chunks. (Piscina's own queue cannot be told this: a task with an abort signal that
 * finds no free thread goes to a first-come list ahead of any custom task queue.)
 */
export class WorkerPool implements ChunkDispatcher, PieceRunner {
  private readonly pool: Piscina;
  /** Settles once every worker has loaded the engine: see close(). */
  private readonly loaded: Promise<unknown>;
  /** Tasks handed to a thread and not yet ended. */
  private busy = 0;
  private readonly waiting: Record<Lane, Waiting[]> = { interactive: [], join: [], batch: [] };

  constructor(readonly concurrency: number = availableParallelism()) {
    this.pool = new Piscina({
      filename: fileURLToPath(WORKER),
      minThreads: concurrency,
      maxThreads: concurrency,
      // A worker keeps its compiled templates; one per core stays up while the pool lives.
      idleTimeout: Infinity,
      // A ceiling on each worker's heap: V8 otherwise lets a busy worker's heap grow far past what it
      // uses before collecting, and a drop's memory would grow with its length. The young generation
      // holds a piece's short-lived data (its words and lines): the smaller it is, the more of that
      // outlives a scavenge into the old generation; the larger, the longer dead ArrayBuffers wait for
      // one (docs/perf.md).
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 24 },
      ...(WORKER.pathname.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
    });
    // A no-op task per worker (each goes to an idle one), answered once that worker has loaded.
    this.loaded = Promise.allSettled(
      Array.from({ length: concurrency }, () => this.pool.run(null, { name: 'loaded' })),
    );
  }

  /** Tasks waiting for a thread, by lane. */
  get queued(): Record<Lane, number> {
    const { interactive, join, batch } = this.waiting;
    return { interactive: interactive.length, join: join.length, batch: batch.length };
  }

  /**
   * A chunk, behind every piece. Once `signal` aborts, a queued chunk leaves the queue unrun and a
   * running one's thread is ended (a chunk can take seconds; a fresh thread takes over its place).
   */
  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    return this.schedule(
      'batch',
      signal,
      () => this.pool.run(task, signal ? { signal } : {}) as Promise<ChunkResult>,
    );
  }

  /** A part to relocate, behind every piece and ahead of every chunk. */
  relocate(part: string, plan: RelocationPlan): Promise<RelocatedPart> {
    return this.schedule(
      'join',
      undefined,
      () => this.pool.run({ part, plan }, { name: 'relocate' }) as Promise<RelocatedPart>,
    );
  }

  /**
   * A piece, ahead of every chunk. A piece that started runs to its end even if its caller has gone:
   * it takes a fraction of a second, and ending its thread would cost a new thread's start and its
   * compiled templates; its result is dropped, and its caller is answered at once.
   */
  piece(task: PieceTask, signal: AbortSignal): Promise<PieceResult> {
    return this.interactive(task, 'piece', signal);
  }

  rasterize(task: RasterTask, signal: AbortSignal): Promise<Uint8Array> {
    return this.interactive(task, 'rasterize', signal);
  }

  private interactive<T>(task: unknown, name: string, signal: AbortSignal): Promise<T> {
    const done = this.schedule('interactive', signal, () => this.pool.run(task, { name }) as Promise<T>);
    return new Promise<T>((resolve, reject) => {
      const leave = () => reject(signal.reason);
      signal.addEventListener('abort', leave, { once: true });
      done.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
    });
  }

  /** Runs `start` on a free thread, after the tasks of its lane and of the lanes before it. */
  private schedule<T>(lane: Lane, signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const waiting: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', leave);
          this.busy += 1;
          start()
            .catch((error: unknown) => {
              throw fromWorker(error);
            })
            .then(resolve, reject)
            .finally(() => {
              this.busy -= 1;
              this.next();
            });
        },
        drop: reject,
      };
      const leave = () => {
        const queue = this.waiting[lane];
        const at = queue.indexOf(waiting);
        if (at !== -1) queue.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.waiting[lane].push(waiting);
      this.next();
    });
  }

  /** Hands free threads the next waiting tasks, interactive first. */
  private next(): void {
    while (this.busy < this.concurrency) {
      const waiting =
        this.waiting.interactive.shift() ?? this.waiting.join.shift() ?? this.waiting.batch.shift();
      if (!waiting) return;
      waiting.start();
    }
  }

  async close(): Promise<void> {
    // Node 20 aborts the whole process (v8::Module::IsGraphAsync, a fatal error) when a worker is
    // terminated while piscina is still loading its module through require(esm): a batch refused
    // straight after the pool started (a sheet too small) could die of SIGABRT instead of exit 2.
    await this.loaded;
    for (const lane of Object.values(this.waiting)) {
      for (const waiting of lane) waiting.drop(new Error('the worker pool is closing'));
      lane.length = 0;
    }
    await this.pool.close();
  }
}

/** A worker's failure as it crosses to this thread: see toCrossing. */
interface CrossingError {
  crossing: true;
  message: string;
  stack?: string;
  code?: string;
  /** A PlatenError's problems (a bad record): it crosses back as the PlatenError it was. */
  problems?: Problem[];
}

/**
 * What a worker throws, as plain data. A thread boundary clones an Error with its message and stack
 * only: an ENOSPC from writing a part would arrive with no `code`, and a full disk would then read
 * as a fault in the job rather than a storage failure that it can wait out (see storageFault); a
 * PlatenError would arrive without its problems, and a bad record would read as a fault, not a 422.
 */
export function toCrossing(error: unknown): CrossingError {
  const { message, stack, code } = error as { message?: unknown; stack?: unknown; code?: unknown };
  return {
    crossing: true,
    message: typeof message === 'string' ? message : String(error),
    ...(typeof stack === 'string' ? { stack } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    ...(error instanceof PlatenError ? { problems: error.problems } : {}),
  };
}

/** A worker's failure back as an Error, with its code (a PlatenError with its problems). */
function fromWorker(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !(error as CrossingError).crossing) return error;
  const { message, stack, code, problems } = error as CrossingError;
  const back = problems && code ? new PlatenError(code, problems) : new Error(message);
  return Object.assign(back, { ...(stack ? { stack } : {}), ...(code && !problems ? { code } : {}) });
}
