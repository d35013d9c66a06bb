/** The chunk store over local objects: whole files by key, nothing for a missing key, no key outside the folder. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkStore } from '../../src/jobs/chunk-store.js';
import { openChunkStore } from '../../src/service/platen.js';

async function bytesOf(stream: Readable | null): Promise<string | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('the chunk store on local files', () => {
  let dir: string;
  let store: ChunkStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-chunk-store-'));
    store = openChunkStore({ dataDir: dir, s3: null });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps bytes and streams by key, replaces them whole, and forgets them', async () => {
    await store.put('parts/one.part', Buffer.from('first'));
    expect(await bytesOf(await store.get('parts/one.part'))).toBe('first');
    await store.put('parts/one.part', Readable.from([Buffer.from('sec'), Buffer.from('ond')]));
    expect(await bytesOf(await store.get('parts/one.part'))).toBe('second');
    expect(await readdir(path.join(dir, 'chunks/parts'))).toEqual(['one.part']); // no temporary file left
    await store.delete('parts/one.part');
    await store.delete('parts/one.part');
    expect(await store.get('parts/one.part')).toBeNull();
  });

  it('refuses a key that would reach outside its folder', async () => {
    for (const key of ['../escape', 'parts/../../escape', '/etc/passwd', 'parts/', 'parts/.hidden'])
      await expect(store.put(key, Buffer.from('x')), key).rejects.toThrow('not a chunk store key');
  });
});
