import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { folderEntries, writeAtomically } from '../files.js';

/**
 * Content-addressed blobs on local disk (rendered PDFs, rep photos): the name is the SHA-256, so a
 * blob is written once however often it is stored, and never changes after.
 */
export class BlobStore {
  constructor(private readonly dir: string) {}

  private path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a blob id');
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = this.path(sha256);
    if (await exists(path)) return sha256;
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    await writeAtomically(path, async (out) => {
      out.end(bytes);
    });
    return sha256;
  }

  /** The blob, or null if there is none; a failure to read it (an I/O error) is thrown. */
  async get(sha256: string): Promise<Buffer | null> {
    return readFile(this.path(sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  }

  /** Removes the temporary files of writes a crash cut short; returns their paths. */
  async sweep(): Promise<string[]> {
    const removed: string[] = [];
    for (const folder of await folderEntries(this.dir)) {
      for (const name of await folderEntries(join(this.dir, folder))) {
        if (!name.endsWith('.tmp')) continue;
        await rm(join(this.dir, folder, name), { force: true });
        removed.push(join(this.dir, folder, name));
      }
    }
    return removed;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
