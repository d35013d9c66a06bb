import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Piscina } from 'piscina';
import type { ChunkResult, ChunkTask } from './chunk.js';

/**
 * Where a job's chunks are rendered. Jobs know only this interface: the pool below runs chunks on
 * this machine's cores; QueueDispatcher (queue.ts) sends them to `platen worker` processes on any
 * machine, since tasks and results are plain data.
 */
export interface ChunkDispatcher {
  /** How many chunks run at once: jobs keep about twice that many in flight. */
  readonly concurrency: number;
  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult>;
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
  // After a full collection V8 lets an old generation grow to several times what survived before the
  // next one (up to 4x when collections are quick), and the coordinator's fills with dead rows and
  // parts. Half again as much keeps a long drop's peak lower, at the same number of collections in
  // the workers (V8 reads this at every collection, for every isolate of the process; docs/perf.md).
  setFlagsFromString('--heap-growing-percent=50');
}

/**
 * A pool of worker threads, one per core unless told otherwise. Its workers' heaps are tuned by
 * setWorkerHeapFlags, which the entry point calls first.
 */
export class WorkerPool implements ChunkDispatcher {
  private readonly pool: Piscina;
  /** Settles once every worker has loaded the engine: see close(). */
  private readonly loaded: Promise<unknown>;

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

  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    return (this.pool.run(task, signal ? { signal } : {}) as Promise<ChunkResult>).catch((error: unknown) => {
      throw fromWorker(error);
    });
  }

  async close(): Promise<void> {
    // Node 20 aborts the whole process (v8::Module::IsGraphAsync, a fatal error) when a worker is
    // terminated while piscina is still loading its module through require(esm): a batch refused
    // straight after the pool started (a sheet too small) could die of SIGABRT instead of exit 2.
    await this.loaded;
    await this.pool.close();
  }
}

/** A worker's failure as it crosses to this thread: see toCrossing. */
interface CrossingError {
  crossing: true;
  message: string;
  stack?: string;
  code?: string;
}

/**
 * What a worker throws, as plain data. A thread boundary clones an Error with its message and stack
 * only: an ENOSPC from writing a part would arrive with no `code`, and a full disk would then read
 * as a fault in the job rather than a storage failure that it can wait out (see storageFault).
 */
export function toCrossing(error: unknown): CrossingError {
  const { message, stack, code } = error as { message?: unknown; stack?: unknown; code?: unknown };
  return {
    crossing: true,
    message: typeof message === 'string' ? message : String(error),
    ...(typeof stack === 'string' ? { stack } : {}),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/** A worker's failure back as an Error, with its code. */
function fromWorker(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !(error as CrossingError).crossing) return error;
  const { message, stack, code } = error as CrossingError;
  return Object.assign(new Error(message), { ...(stack ? { stack } : {}), ...(code ? { code } : {}) });
}
