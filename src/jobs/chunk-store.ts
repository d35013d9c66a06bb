import type { Readable } from 'node:stream';

/**
 * What a queue's coordinator and its workers share besides the queue: chunk tasks, template
 * packages' files and finished parts, by key (`tasks/…`, `packages/…`, `parts/…`). Workers may run
 * on other machines, so nothing is passed as a path. The service's objects under `chunks/` implement
 * it (openChunkStore in service/platen.ts): S3's for many machines, or a folder of the data directory
 * for the processes of one machine (or a shared mount).
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
