/** `platen worker` processes for tests: start one, wait for what it logs, see it drawing a chunk. */
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

/** The part a worker is drawing now (in its temp dir), if any has bytes yet. */
export async function partBeingDrawn(worker: Worker): Promise<boolean> {
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
