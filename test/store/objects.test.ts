/**
 * The object store (src/store/store.ts ObjectStore): named files every node shares, as local files
 * and in S3 (against s3rver on loopback). The same behaviour from both, and S3's multipart uploads
 * for outputs larger than a part.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { roomIn } from '../../src/files.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { storageFault } from '../../src/errors.js';
import { PART_BYTES, S3ObjectStore, s3Client } from '../../src/store/s3-objects.js';
import type { ObjectStore } from '../../src/store/store.js';
import { type S3Server, startS3 } from '../support/s3.js';

let s3: S3Server;
const dirs: string[] = [];
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const STORES: { name: string; open(dir: string): ObjectStore }[] = [
  { name: 'local files', open: (dir) => new LocalObjectStore(path.join(dir, 'data')) },
  { name: 'S3', open: (dir) => s3.objects(`${path.basename(dir)}/`, path.join(dir, 'cache')) },
];

/** Writes `bytes` a MiB at a time, minding backpressure as the joiner does, and ends (unless not to). */
async function writeInPieces(out: Writable, bytes: Buffer, end = true): Promise<void> {
  for (let at = 0; at < bytes.length; at += 1 << 20) {
    await roomIn(out);
    out.write(bytes.subarray(at, at + (1 << 20)));
  }
  if (end) out.end();
}

const read = async (objects: ObjectStore, key: string, range?: { start: number; end: number }) => {
  const stream = await objects.read(key, range);
  return stream && buffer(stream);
};

describe.each(STORES)('objects: $name', ({ open }) => {
  let dir: string;
  let objects: ObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-objects-'));
    dirs.push(dir);
    objects = open(dir);
  });

  it('are written from a stream, read back whole or in part, listed by prefix and deleted', async () => {
    await objects.write('jobs/a/output.pdf', async (out) => {
      out.end('%PDF-1.7 a print file');
    });
    await objects.write('jobs/a/errors.csv', async (out) => {
      out.end('row,line\r\n');
    });
    await objects.write('jobs/ab/output.pdf', async (out) => {
      out.end('another');
    });
    expect(await objects.size('jobs/a/output.pdf')).toBe(21);
    expect((await read(objects, 'jobs/a/output.pdf'))!.toString()).toBe('%PDF-1.7 a print file');
    expect((await read(objects, 'jobs/a/output.pdf', { start: 9, end: 13 }))!.toString()).toBe('a pri');
    expect((await objects.list('jobs/a/')).sort()).toEqual(['jobs/a/errors.csv', 'jobs/a/output.pdf']);
    expect((await objects.list('jobs/a')).sort()).toEqual([
      'jobs/a/errors.csv',
      'jobs/a/output.pdf',
      'jobs/ab/output.pdf',
    ]);
    await objects.delete('jobs/a/errors.csv');
    expect(await objects.size('jobs/a/errors.csv')).toBeNull();
    await objects.deleteAll('jobs/a/');
    expect(await objects.list('jobs/')).toEqual(['jobs/ab/output.pdf']);
  });

  it('answer null or nothing for what is not there, and refuse a key that is not one', async () => {
    expect(await objects.size('jobs/none/output.pdf')).toBeNull();
    expect(await objects.read('jobs/none/output.pdf')).toBeNull();
    expect(await objects.localFile('jobs/none/input.csv')).toBeNull();
    expect(await objects.list('jobs/none/')).toEqual([]);
    await objects.delete('jobs/none/output.pdf');
    await objects.deleteAll('jobs/none/');
    for (const key of ['../platen.db', 'jobs//x', 'jobs/./x', '/jobs/x', 'jobs\\..\\x'])
      await expect(objects.size(key)).rejects.toThrow('not an object key');
  });

  it('appear only whole: a write that fails leaves no object, and none of a part of it', async () => {
    await objects.write('jobs/b/output.pdf', async (out) => {
      out.end('the first output');
    });
    const bytes = randomBytes(7 * 1024 * 1024);
    await expect(
      objects.write('jobs/b/output.pdf', async (out) => {
        await roomIn(out);
        out.write(bytes.subarray(0, 6 * 1024 * 1024));
        await roomIn(out);
        throw new Error('a worker died');
      }),
    ).rejects.toThrow('a worker died');
    await expect(
      objects.write('jobs/c/output.pdf', async (out) => {
        await writeInPieces(out, bytes.subarray(0, 2 * 1024 * 1024));
        throw new Error('the report failed');
      }),
    ).rejects.toThrow('the report failed');
    expect((await read(objects, 'jobs/b/output.pdf'))!.toString()).toBe('the first output');
    expect(await objects.size('jobs/c/output.pdf')).toBeNull();
    expect((await objects.list('jobs/')).sort()).toEqual(['jobs/b/output.pdf']);
  });

  it('take local files and folders in, and give local copies of them out', async () => {
    const list = path.join(dir, 'list.csv');
    await writeFile(list, 'name\r\nWinifred\r\n');
    await objects.putFile('jobs/d/input.csv', list);
    const local = (await objects.localFile('jobs/d/input.csv'))!;
    expect(await readFile(local, 'utf8')).toBe('name\r\nWinifred\r\n');
    // Released, a copy goes (an object that is a local file stays), and comes back when asked for.
    await objects.release('jobs/d/input.csv');
    expect(await objects.size('jobs/d/input.csv')).toBe(16);
    expect(await readFile((await objects.localFile('jobs/d/input.csv'))!, 'utf8')).toBe(
      'name\r\nWinifred\r\n',
    );
    const staged = path.join(dir, 'staged');
    await mkdir(path.join(staged, 'images'), { recursive: true });
    await writeFile(path.join(staged, 'template.json'), '{}');
    await writeFile(path.join(staged, 'images', 'logo.svg'), '<svg/>');
    await objects.putFolder('packages/flyer/1/', staged);
    expect((await objects.list('packages/flyer/1/')).sort()).toEqual([
      'packages/flyer/1/images/logo.svg',
      'packages/flyer/1/template.json',
    ]);
    const folder = await objects.localFolder('packages/flyer/1/');
    expect(await readFile(path.join(folder, 'images', 'logo.svg'), 'utf8')).toBe('<svg/>');
    expect(await readFile(path.join(folder, 'template.json'), 'utf8')).toBe('{}');
  });
});

describe('objects in S3', () => {
  it('larger than a part are multipart uploads, streamed back whole and by range', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-objects-'));
    dirs.push(dir);
    const objects = s3.objects(`${path.basename(dir)}/`, path.join(dir, 'cache'));
    // Two full parts and a short last one.
    const bytes = randomBytes(2 * PART_BYTES + 123_457);
    s3.commands.length = 0;
    await objects.write('jobs/big/output.pdf', (out) => writeInPieces(out, bytes));
    expect(await objects.size('jobs/big/output.pdf')).toBe(bytes.length);
    const back = await read(objects, 'jobs/big/output.pdf');
    expect(createHash('sha256').update(back!).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    // Across the first part's end.
    const range = { start: PART_BYTES - 10, end: PART_BYTES + 9 };
    expect(await read(objects, 'jobs/big/output.pdf', range)).toEqual(
      bytes.subarray(range.start, range.end + 1),
    );
    // It went up in three parts of a multipart upload.
    expect(s3.commands.filter((c) => c !== 'HeadObjectCommand' && c !== 'GetObjectCommand')).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
  });

  it('abort the multipart upload of a write that fails, leaving no object', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-objects-'));
    dirs.push(dir);
    const objects = s3.objects(`${path.basename(dir)}/`, path.join(dir, 'cache'));
    s3.commands.length = 0;
    await expect(
      objects.write('jobs/cut/output.pdf', async (out) => {
        await writeInPieces(out, randomBytes(PART_BYTES + 1), false);
        // The first part is up by the time the second is being written.
        while (!s3.commands.includes('UploadPartCommand')) await new Promise((r) => setTimeout(r, 10));
        throw new Error('the service stopped');
      }),
    ).rejects.toThrow('the service stopped');
    expect(s3.commands).toContain('CreateMultipartUploadCommand');
    expect(s3.commands).not.toContain('CompleteMultipartUploadCommand');
    expect(s3.commands).toContain('AbortMultipartUploadCommand');
    expect(await objects.list('')).toEqual([]);
  });

  it('that cannot be reached fail as storage does, for a request to answer 503 and a job to wait', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-objects-'));
    dirs.push(dir);
    // A port nothing listens on.
    const client = s3Client({ ...s3.config, endpoint: 'http://127.0.0.1:9' });
    const objects = new S3ObjectStore(client, s3.config.bucket, '', path.join(dir, 'cache'));
    const failures = [
      await objects.size('jobs/x/output.pdf').catch((error: unknown) => error),
      await objects
        .write('jobs/x/output.pdf', async (out) => {
          out.end('bytes');
        })
        .catch((error: unknown) => error),
    ];
    for (const failure of failures)
      expect(storageFault(failure)).toMatchObject({ code: 'storage_unavailable' });
    client.destroy();
  });
});
