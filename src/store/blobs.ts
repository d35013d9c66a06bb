import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, path);
    return sha256;
  }

  async get(sha256: string): Promise<Buffer | null> {
    return readFile(this.path(sha256)).catch(() => null);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
