import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { PlatenError, type Problem, storageFault } from '../errors.js';

/** Limits on an uploaded template package: a template is a few fonts and images, not an archive. */
export const PACKAGE_LIMITS = {
  maxFiles: 500,
  maxFileBytes: 30 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
};

const reject = (rule: string, message: string, path = 'package'): never => {
  throw new PlatenError('invalid_package', [{ path, rule, message }]);
};

/**
 * Unpacks a zip into `target` (which must not exist), safely: no absolute or `..` paths, no links,
 * no devices, bounded file count and sizes (checked against the bytes actually inflated, not the
 * headers' claims). A package zipped with its folder (`brochure/template.json`) is unwrapped. On any
 * problem nothing is left behind.
 */
export async function unzipPackage(zip: Buffer, target: string): Promise<void> {
  const root = resolve(target);
  try {
    await mkdir(root, { recursive: false });
    await extract(zip, root);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function extract(zip: Buffer, root: string): Promise<void> {
  const file = await new Promise<yauzl.ZipFile>((done, fail) =>
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, z) =>
      err ? fail(err) : done(z),
    ),
  ).catch((err: Error) => reject('not_a_zip', `not a readable zip file: ${err.message}`));
  if (file.entryCount > PACKAGE_LIMITS.maxFiles) {
    file.close();
    reject(
      'too_many_files',
      `the package has ${file.entryCount} entries; at most ${PACKAGE_LIMITS.maxFiles} are accepted`,
    );
  }
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((done, fail) => {
    file.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      file.readEntry();
    });
    file.on('end', done);
    file.on('error', fail);
    file.readEntry();
  }).catch((err: Error) => reject('bad_zip', err.message));

  const problems: Problem[] = [];
  let declaredTotal = 0;
  for (const entry of entries) {
    const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
    if (mode !== 0 && mode !== 0o100000 && mode !== 0o040000) {
      problems.push({
        path: entry.fileName,
        rule: 'link',
        message: 'links and special files are not allowed in a package',
      });
    }
    declaredTotal += entry.uncompressedSize;
  }
  if (problems.length > 0) {
    file.close();
    throw new PlatenError('invalid_package', problems);
  }
  if (declaredTotal > PACKAGE_LIMITS.maxTotalBytes) {
    file.close();
    reject('too_big', `the package would unpack to more than ${PACKAGE_LIMITS.maxTotalBytes} bytes`);
  }

  const prefix = commonFolder(entries.map((e) => e.fileName));
  let written = 0;
  for (const entry of entries) {
    if (entry.fileName.endsWith('/')) continue;
    const name = entry.fileName.slice(prefix.length);
    const dest = resolve(root, name);
    if (!dest.startsWith(root + sep)) reject('path', 'a path leads outside the package', entry.fileName);
    if (entry.uncompressedSize > PACKAGE_LIMITS.maxFileBytes) {
      reject('too_big', `larger than ${PACKAGE_LIMITS.maxFileBytes} bytes`, entry.fileName);
    }
    await mkdir(dirname(dest), { recursive: true });
    const stream = await new Promise<NodeJS.ReadableStream>((done, fail) =>
      file.openReadStream(entry, (err, s) => (err ? fail(err) : done(s))),
    );
    // validateEntrySizes makes the stream fail if it inflates to more than the header said.
    stream.on('data', (chunk: Buffer) => {
      written += chunk.length;
      if (written > PACKAGE_LIMITS.maxTotalBytes)
        (stream as unknown as { destroy(e: Error): void }).destroy(new Error('too big'));
    });
    await pipeline(stream, createWriteStream(dest, { flags: 'wx' })).catch((err: Error) => {
      // Our own disk failing (full) is not a fault of the package.
      if (storageFault(err)) throw err;
      reject('bad_entry', err.message, entry.fileName);
    });
  }
  file.close();
}

/** `folder/` when every entry sits inside one top-level folder that holds template.json. */
function commonFolder(names: string[]): string {
  const first = names[0]?.split('/')[0];
  if (!first || names.includes('template.json')) return '';
  const prefix = `${first}/`;
  return names.every((n) => n.startsWith(prefix)) && names.includes(`${prefix}template.json`) ? prefix : '';
}
