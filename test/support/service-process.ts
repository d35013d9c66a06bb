/**
 * `platen serve` as its own process over a data directory, for tests that kill it (SIGKILL at any
 * moment) or need it to survive what would end it (a full disk): start it, read its log, kill it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI, REPO_ROOT } from './repo.js';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything it has logged (JSON lines) and written to stderr so far. */
  output(): string;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGKILL, as a crash or an operator would: resolves once it has gone. */
  kill(): Promise<void>;
}

/**
 * Starts the service over `dataDir` on a free port; resolves once it serves. A process that exits
 * before it serves rejects with what it wrote.
 */
export async function startService(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PLATEN_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Read as it comes: a log nobody reads fills the pipe and stalls the service.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-1_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const seek = () => {
      const match = /"url":"(http:[^"]+)"/.exec(output);
      if (match) {
        child.stdout!.off('data', seek);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', seek);
    child.once('exit', (code, signal) => reject(new Error(`serve exited (${code ?? signal}): ${output}`)));
  });
  return {
    url,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The admin key the first start wrote. */
export async function adminKeyOf(dataDir: string): Promise<string> {
  return (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
}
