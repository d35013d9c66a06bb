/** `platen worker` processes for tests: start one, wait for what it logs, freeze it in the middle of a chunk. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './files.js';
import { CLI } from './repo.js';

export interface Worker {
  process: ChildProcess;
  tmp: string;
  log: string;
  exited: Promise<void>;
}

/**
 * A `platen worker` of one thread (the built CLI), with its own temp dir, in the environment given:
 * the database and queue, and where the chunk store is (a data directory, or S3).
 */
export async function startWorker(env: Record<string, string>): Promise<Worker> {
  const tmp = await tempDir('platen-queue-worker-');
  const child = spawn(process.execPath, [CLI, 'worker', '--concurrency', '1'], {
    env: {
      ...process.env,
      ...env,
      TMPDIR: tmp,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: Worker = {
    process: child,
    tmp,
    log: '',
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  child.stdout.on('data', (chunk: Buffer) => (worker.log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (worker.log += chunk.toString()));
  await until(() => worker.log.includes('taking chunks'), `worker ${child.pid} to start`, worker);
  return worker;
}

export async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  worker?: Worker,
): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await done()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${worker ? `; its log:\n${worker.log}` : ''}`);
}

/** Whether the worker's temp dir holds a part with bytes: the chunk it has taken is being drawn. */
async function partBeingDrawn(worker: Worker): Promise<boolean> {
  for (const entry of await readdir(worker.tmp, { recursive: true }).catch(() => [])) {
    if (!entry.endsWith('.part')) continue;
    const size = await stat(path.join(worker.tmp, entry)).then(
      (s) => s.size,
      () => 0,
    );
    if (size > 0) return true;
  }
  return false;
}

/** The last chunk a worker's log says it took, and whether its log says it finished it. */
function lastTaken(worker: Worker): { index: string; job: string; done: boolean } | null {
  const taken = [...worker.log.matchAll(/chunk (\d+) \(job ([0-9a-f-]+)\) taken/g)].at(-1);
  if (!taken) return null;
  const [, index, job] = taken;
  return { index: index!, job: job!, done: worker.log.includes(`chunk ${index} (job ${job}) done`) };
}

/**
 * Freezes a worker (SIGSTOP) in the middle of a chunk, for the caller to kill: once it has taken a
 * chunk, as soon as its part has bytes, or half a second after it took it (a busy machine may draw a
 * whole chunk between two looks at the part). A chunk its log says it finished before it froze does
 * not count: it is let go on, to the next one. Resolves with the chunk it froze in.
 */
export async function freezeMidChunk(worker: Worker): Promise<{ index: string; job: string }> {
  for (let i = 0; i < 600; i++) {
    const taken = lastTaken(worker);
    if (taken && !taken.done) {
      for (let look = 0; look < 50 && !(await partBeingDrawn(worker)); look++) await sleep(10);
      worker.process.kill('SIGSTOP');
      // What it wrote before it froze is read once the pipe's data has been taken in.
      await sleep(200);
      const frozen = lastTaken(worker)!;
      if (frozen.job === taken.job && !frozen.done) return { index: frozen.index, job: frozen.job };
      worker.process.kill('SIGCONT');
    }
    await sleep(20);
  }
  throw new Error(`the worker never took a chunk it did not finish; its log:\n${worker.log}`);
}
