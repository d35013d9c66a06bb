/** Temporary folders, folder listings and bytes, for tests that write files. */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Temp dirs made by a test file; `cleanup` (in afterEach/afterAll) removes them. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'platen-bad-'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Temporary directories made by this test file through tempDir(), removed by `cleanup()`. */
const temps = new TempDirs();

export function tempDir(prefix = 'platen-api-'): Promise<string> {
  return temps.make(prefix);
}

export function cleanup(): Promise<void> {
  return temps.cleanup();
}

/** Runs `use` with a fresh temporary folder, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** File names in `dir` (not recursive), sorted. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** The entries of a directory, or [] if it does not exist. */
export function entries(dir: string): Promise<string[]> {
  return listDir(dir).catch(() => [] as string[]);
}

/** The first `fraction` of a file: what an interrupted copy or upload leaves. */
export const truncated = (bytes: Buffer, fraction: number): Buffer =>
  bytes.subarray(0, Math.floor(bytes.length * fraction));

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
