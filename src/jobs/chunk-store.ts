import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeAtomically } from '../files.js';

/**
 * What a queue's coordinator and its workers share besides the queue: chunk tasks, template
 * packages' files and finished parts, by key (`tasks/…`, `packages/…`, `parts/…`). Workers may run
 * on other machines, so nothing is passed as a path. An object store (S3) implements it for many
 * machines; LocalChunkStore, a folder, serves the processes of one machine (or a shared mount).
 */
export interface ChunkStore {
  /** Stores the bytes under the key, whole or not at all, replacing what was there. */
  put(key: string, body: Readable | Buffer): Promise<void>;
  /** The bytes under the key, or null if there are none. */
  get(key: string): Promise<Readable | null>;
  /** Removes the key; removing one that is not there is no error. */
  delete(key: string): Promise<void>;
}

/**
 * Keys are relative paths of plain names (none starting with a dot), so that no key reaches outside
 * the store, whatever stores it: a folder, or an object store's prefix.
 */
const KEY = /^[a-z]+(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`not a chunk store key: ${key}`);
  return key;
}

/** A folder as a chunk store; files are written under temporary names and renamed, so a reader never sees half. */
export class LocalChunkStore implements ChunkStore {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, checkKey(key));
  }

  async put(key: string, body: Readable | Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    await writeAtomically(path, async (out) => {
      if (Buffer.isBuffer(body)) out.end(body);
      else await pipeline(body, out, { end: false });
    });
  }

  async get(key: string): Promise<Readable | null> {
    const stream = createReadStream(this.path(key));
    return new Promise((resolve, reject) => {
      stream.once('open', () => resolve(stream));
      stream.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? resolve(null) : reject(error),
      );
    });
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
