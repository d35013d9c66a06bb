/**
 * ZipWriter, read back by two independent readers: yauzl (names, sizes, offsets, contents) and
 * Info-ZIP's `unzip` (`-t` checks every CRC). Past the classic format's limits too: 70,000 files,
 * and a file that starts beyond 4 GiB (a sparse file, so the test writes kilobytes, not gigabytes).
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipWriter } from '../../src/jobs/zip-writer.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'platen-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeZip(file: string, files: [string, Buffer][]): Promise<void> {
  const out = createWriteStream(file);
  const zip = new ZipWriter(out, new Date(2026, 11, 6, 14, 30, 58));
  for (const [name, data] of files) await zip.add(name, data, crc32(data));
  await zip.end();
  out.end();
  await finished(out);
}

interface Read {
  name: string;
  size: number;
  offset: number;
  modified: Date;
  text?: string;
}

/** Every entry of a ZIP as yauzl reads it; the contents of those `wanted` names. */
async function readZip(file: string, wanted: (name: string) => boolean = () => true): Promise<Read[]> {
  const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(file, { lazyEntries: true });
  const entries: Read[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      const read: Read = {
        name: entry.fileName,
        size: entry.uncompressedSize,
        offset: entry.relativeOffsetOfLocalHeader,
        modified: entry.getLastModDate(),
      };
      entries.push(read);
      if (!wanted(entry.fileName)) return zip.readEntry();
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          read.text = Buffer.concat(chunks).toString('utf8');
          zip.readEntry();
        });
        stream.on('error', reject);
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  zip.close();
  return entries;
}

describe('ZipWriter', () => {
  it('writes stored files that both readers take: names (UTF-8), sizes, times, contents, CRCs', async () => {
    const file = path.join(dir, 'small.zip');
    const files: [string, Buffer][] = [
      ['P0001-García.pdf', Buffer.from('%PDF-1.7 first')],
      ['empty.pdf', Buffer.alloc(0)],
      ['Zoë Ødegård-北京.pdf', Buffer.from('third, '.repeat(10_000))],
    ];
    await writeZip(file, files);
    const entries = await readZip(file);
    expect(entries.map((e) => [e.name, e.text])).toEqual(
      files.map(([name, data]) => [name, data.toString()]),
    );
    expect(entries.map((e) => e.size)).toEqual(files.map(([, data]) => data.length));
    // MS-DOS times have a two-second resolution.
    expect(entries[0]!.modified).toEqual(new Date(2026, 11, 6, 14, 30, 58));
    await run('unzip', ['-tq', file]);
  });

  it('fails the test run of unzip when a CRC is wrong (the check above can fail)', async () => {
    const file = path.join(dir, 'bad-crc.zip');
    const out = createWriteStream(file);
    const zip = new ZipWriter(out);
    await zip.add('a.pdf', Buffer.from('contents'), crc32('something else'));
    await zip.end();
    out.end();
    await finished(out);
    await expect(run('unzip', ['-tq', file])).rejects.toMatchObject({
      stdout: expect.stringMatching(/bad CRC/),
    });
  });

  it('writes ZIP64 end records for more than 65,535 files', async () => {
    const file = path.join(dir, 'many.zip');
    const count = 70_000;
    await writeZip(
      file,
      Array.from({ length: count }, (_, i): [string, Buffer] => [`${i}.pdf`, Buffer.from(`file ${i}`)]),
    );
    const entries = await readZip(file, (name) => name === '69999.pdf');
    expect(entries).toHaveLength(count);
    expect(entries.at(-1)).toMatchObject({ name: '69999.pdf', text: 'file 69999' });
    const { stdout } = await run('unzip', ['-tq', file]);
    expect(stdout).toContain('No errors detected');
  });

  it('gives the offset of a file that starts beyond 4 GiB in a ZIP64 extra field', async () => {
    const file = path.join(dir, 'large.zip');
    const zeros = Buffer.alloc(256 * 1024 * 1024);
    const big = Math.ceil(2 ** 32 / zeros.length); // 16 files of 256 MiB: the next starts past 4 GiB
    const out = await sparseFile(file, zeros);
    const zip = new ZipWriter(out);
    for (let i = 0; i < big; i++) await zip.add(`zeros-${i}.bin`, zeros, crc32(zeros));
    await zip.add('after.pdf', Buffer.from('past 4 GiB'), crc32('past 4 GiB'));
    await zip.end();
    out.end();
    await finished(out);
    expect((await stat(file)).size).toBeGreaterThan(2 ** 32);

    const entries = await readZip(file, (name) => name === 'after.pdf');
    expect(entries).toHaveLength(big + 1);
    expect(entries.at(-1)!.offset).toBeGreaterThan(2 ** 32);
    expect(entries.at(-1)!.text).toBe('past 4 GiB');
    const { stdout } = await run('unzip', ['-l', file]);
    expect(stdout).toMatch(/after\.pdf/);
  });
});

/**
 * A file stream that leaves a hole where `hole` is written (the OS reads a hole as zeros): a ZIP of
 * gigabytes of zeros takes kilobytes of disk and no time to write.
 */
async function sparseFile(file: string, hole: Buffer): Promise<Writable> {
  const handle = await open(file, 'w');
  let position = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const at = position;
      position += chunk.length;
      if (chunk === hole) return done();
      handle.write(chunk, 0, chunk.length, at).then(() => done(), done);
    },
    final(done) {
      handle
        .truncate(position)
        .then(() => handle.close())
        .then(() => done(), done);
    },
  });
}
