import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { folderEntries, writeAtomically } from '../files.js';
import type { BlobStore } from './store.js';

/** Content-addressed blobs on local disk, a folder per two-digit prefix of their SHA-256. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  private path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a blob id');
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (await this.exists(sha256)) return sha256;
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    await writeAtomically(this.path(sha256), async (out) => {
      out.end(bytes);
    });
    return sha256;
  }

  async get(sha256: string): Promise<Buffer | null> {
    return readFile(this.path(sha256)).catch(notFound);
  }

  async stream(sha256: string): Promise<Readable | null> {
    const file = await open(this.path(sha256)).catch(notFound);
    return file ? file.createReadStream() : null;
  }

  async exists(sha256: string): Promise<boolean> {
    return stat(this.path(sha256)).then(
      () => true,
      () => false,
    );
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.path(sha256), { force: true });
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

function notFound(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT') return null;
  throw error;
}
