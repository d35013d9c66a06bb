/**
 * A job's checkpoints in the store: a resumed job takes those this build wrote, and draws again a
 * chunk whose checkpoint lacks what this build needs (an earlier build's, without its ZIP files'
 * CRCs or its rejected rows' cells).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointsOf, type SavedChunk } from '../../src/jobs/checkpoints.js';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { JobSpec } from '../../src/store/store.js';

let dir: string;
let store: SqliteStore;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'platen-checkpoints-'));
  store = new SqliteStore(dir, new LocalBlobStore(path.join(dir, 'blobs')), new LocalObjectStore(dir));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const chunk = (index: number): SavedChunk => ({
  index,
  rendered: 1,
  pages: 1,
  rejected: [
    {
      row: 2 * index + 2,
      line: 2 * index + 3,
      problems: [{ path: 'prospect.firstName', rule: 'invalid_type', message: 'required' }],
      cells: [{ column: 'First Name', value: '' }],
    },
  ],
  files: [{ row: 2 * index + 1, name: `P${index}.pdf`, bytes: 1234, crc32: 0xdeadbeef }],
  part: `/data/jobs/x/${index}.part`,
  heldOut: 1,
});

describe('job checkpoints', () => {
  it('gives back what this build saved, and leaves out what an earlier build saved without CRCs, cells or holdouts', async () => {
    const job = await store.jobs.create({
      id: 'checkpoints-1',
      keyId: 'key-1',
      repId: null,
      templateId: 'mailer',
      version: 1,
      kind: 'zip',
      spec: { map: {} } as unknown as JobSpec,
      total: 6,
    });
    await store.jobs.saveChunk(job.id, 0, chunk(0));
    await store.jobs.saveChunk(job.id, 2, chunk(2));
    const old = (result: object) =>
      store.db
        .prepare('INSERT INTO job_chunks (job_id, idx, result) VALUES (?, ?, ?)')
        .run(job.id, (result as SavedChunk).index, JSON.stringify(result));
    const { files, rejected, ...rest } = chunk(1);
    old({ ...rest, index: 1, rejected, files: files.map(({ crc32: _, ...file }) => file) });
    old({ ...chunk(3), rejected: rejected.map(({ row, problems }) => ({ row, problems })) });
    const { heldOut: _, ...beforeHoldouts } = chunk(4);
    old(beforeHoldouts);

    const saved = checkpointsOf(await store.jobs.chunks(job.id));
    expect([...saved.keys()].sort()).toEqual([0, 2]);
    expect(saved.get(0)).toEqual(chunk(0));
    expect(saved.get(2)).toEqual(chunk(2));
  });
});
