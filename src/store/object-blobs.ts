import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore, ObjectStore } from './store.js';

/**
 * Content-addressed blobs as objects of an object store (S3), under `blobs/<sha256>`. A blob that is
 * there already is not written again; an object is whole or absent, so a blob is too.
 */
export class ObjectBlobStore implements BlobStore {
  constructor(private readonly objects: ObjectStore) {}

  private key(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a blob id');
    return `blobs/${sha256}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (await this.exists(sha256)) return sha256;
    await this.objects.write(this.key(sha256), async (out) => {
      out.end(bytes);
    });
    return sha256;
  }

  async get(sha256: string): Promise<Buffer | null> {
    const bytes = await this.objects.read(this.key(sha256));
    return bytes && buffer(bytes);
  }

  async stream(sha256: string): Promise<Readable | null> {
    return this.objects.read(this.key(sha256));
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.objects.size(this.key(sha256))) !== null;
  }

  async delete(sha256: string): Promise<void> {
    await this.objects.delete(this.key(sha256));
  }

  /** The object store's sweep covers blobs' unfinished writes. */
  async sweep(): Promise<string[]> {
    return [];
  }
}
