import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { PlatenError, type Problem } from '../errors.js';

/** Limits on an uploaded template package: a template is a few fonts and images, not an archive. */
export const PACKAGE_LIMITS = {
  maxFiles: 500,
  maxFileBytes: 30 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  /** UTF-8 bytes of an entry's name, and of each folder or file name in it. */
  maxNameBytes: 1024,
  maxSegmentBytes: 255,
  /** Inflated over compressed size of an entry above 1 MB: beyond it the entry is a zip bomb. */
  maxRatio: 100,
};

const RATIO_FROM_BYTES = 1024 * 1024;

/**
 * Unpacks a zip into `target` (which must not exist), safely. Every entry is checked before anything
 * is written, and each problem is a PlatenError naming the entry as the zip names it: names that are
 * not UTF-8, too long, absolute, with `..`, backslashes or control characters; links, devices and
 * folders stored as files; duplicates; encrypted entries and unknown compression methods; entries too
 * large, compressed beyond any real file (a zip bomb) or sharing their data with another entry; too
 * many entries or bytes. Sizes are checked against the bytes actually inflated, not the headers'
 * claims, and each entry against its CRC. A package zipped with its folder (`brochure/template.json`)
 * is unwrapped. On any problem nothing is left behind.
 */
export async function unzipPackage(zipPath: string, target: string): Promise<void> {
  const root = resolve(target);
  try {
    await mkdir(root, { recursive: false });
    await extract(zipPath, root);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

const reject = (rule: string, message: string, path = 'package'): never => {
  throw new PlatenError('invalid_package', [{ path, rule, message }]);
};

/** An entry with its name decoded (null: not UTF-8). */
interface Named {
  entry: yauzl.Entry;
  name: string | null;
  /** The name for messages: shortened when long, lossy when not UTF-8. */
  shown: string;
}

async function extract(zipPath: string, root: string): Promise<void> {
  const file = await new Promise<yauzl.ZipFile>((done, fail) =>
    yauzl.open(
      zipPath,
      // Names are decoded and checked here, entry by entry: yauzl would stop at the first bad one.
      // The file stays open past the last entry's header: the entries are read after all are checked.
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false },
      (err, z) => (err ? fail(err) : done(z)),
    ),
  ).catch((err: Error & { syscall?: string }) =>
    // A file we cannot open is our fault, not the package's.
    err.syscall ? Promise.reject(err) : reject('not_a_zip', `not a readable zip file: ${err.message}`),
  );
  try {
    if (file.entryCount > PACKAGE_LIMITS.maxFiles) {
      reject(
        'too_many_files',
        `the package has ${file.entryCount} entries; at most ${PACKAGE_LIMITS.maxFiles} are accepted`,
      );
    }
    const entries = (await readEntries(file)).map((entry): Named => {
      const name = entryName(entry);
      return { entry, name, shown: shorten(name ?? entry.fileNameRaw.toString('utf8')) };
    });
    const problems = entryProblems(entries);
    if (problems.length > 0) throw new PlatenError('invalid_package', problems);
    await write(file, entries, root);
  } finally {
    file.close();
  }
}

function readEntries(file: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  return new Promise<yauzl.Entry[]>((done, fail) => {
    file.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      file.readEntry();
    });
    file.on('end', () => done(entries));
    file.on('error', fail);
    file.readEntry();
  }).catch((err: Error) => reject('bad_zip', `the zip file is damaged: ${err.message}`));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An entry's name: from the Info-ZIP Unicode path field when it is there and matches, else the name
 * itself, which must be UTF-8 whatever the flags say. A name in a legacy code page (CP437) would be
 * guessed wrong, and could never match the name the manifest gives.
 */
function entryName(entry: yauzl.Entry): string | null {
  const unicode = entry.extraFields.find(
    (f) =>
      f.id === 0x7075 &&
      f.data.length >= 6 &&
      f.data[0] === 1 &&
      f.data.readUInt32LE(1) === crc32(entry.fileNameRaw),
  );
  try {
    return utf8.decode(unicode ? unicode.data.subarray(5) : entry.fileNameRaw);
  } catch {
    return null;
  }
}

/** A name as messages show it: whole when short, its start and end otherwise. */
function shorten(name: string): string {
  return name.length <= 120 ? name : `${name.slice(0, 60)}…${name.slice(-40)} (${name.length} characters)`;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** Every problem of every entry, and of the entries together. */
function entryProblems(entries: Named[]): Problem[] {
  const problems: Problem[] = [];
  const files = new Set<string>();
  const folders = new Set<string>();
  let declaredTotal = 0;
  for (const { entry, name, shown } of entries) {
    const problem = (rule: string, message: string) => problems.push({ path: shown, rule, message });
    declaredTotal += entry.uncompressedSize;
    if (name === null) {
      problem('name_encoding', 'the name is not UTF-8: zip the package with a tool that writes UTF-8 names');
      continue;
    }
    const nameProblem = pathProblem(name);
    if (nameProblem) {
      problem(nameProblem.rule, nameProblem.message);
      continue;
    }
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    const isFolder = name.endsWith('/');
    if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
      problem('link', 'links and special files are not allowed in a package');
    } else if (isFolder !== (mode === S_IFDIR) && mode !== 0) {
      problem(
        'folder',
        isFolder ? 'a folder entry marked as a file' : 'a folder stored as a file: its name must end with /',
      );
    } else if (isFolder && entry.uncompressedSize > 0) {
      problem('folder', 'a folder entry that holds data');
    } else if (entry.isEncrypted()) {
      problem('encrypted', 'the entry is encrypted: zip the package without a password');
    } else if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      problem(
        'compression',
        `compressed with method ${entry.compressionMethod}, which cannot be read: zip the package with deflate`,
      );
    } else if (entry.uncompressedSize > PACKAGE_LIMITS.maxFileBytes) {
      problem('too_big', `larger than ${PACKAGE_LIMITS.maxFileBytes / (1024 * 1024)} MB`);
    } else if (
      entry.uncompressedSize > RATIO_FROM_BYTES &&
      entry.uncompressedSize > entry.compressedSize * PACKAGE_LIMITS.maxRatio
    ) {
      problem(
        'zip_bomb',
        `inflates more than ${PACKAGE_LIMITS.maxRatio} times (${entry.compressedSize} bytes to ${entry.uncompressedSize}): no real file compresses like that`,
      );
    }
    const key = isFolder ? name.slice(0, -1) : name;
    if (!isFolder && files.has(key)) problem('duplicate', 'the package has two entries of this name');
    (isFolder ? folders : files).add(key);
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  for (const { name, shown } of entries) {
    if (name !== null && !name.endsWith('/') && folders.has(name)) {
      problems.push({
        path: shown,
        rule: 'duplicate',
        message: 'a file with the name of a folder in the package',
      });
    }
  }
  problems.push(...overlaps(entries));
  if (declaredTotal > PACKAGE_LIMITS.maxTotalBytes) {
    problems.push({
      path: 'package',
      rule: 'too_big',
      message: `the package would unpack to more than ${PACKAGE_LIMITS.maxTotalBytes / (1024 * 1024)} MB`,
    });
  }
  return problems;
}

/** Why a decoded name cannot be a file of the package, or null: for zip entries and draft files alike. */
export function pathProblem(name: string): { rule: string; message: string } | null {
  const bytes = Buffer.byteLength(name);
  const segments = name.replace(/\/$/, '').split('/');
  if (
    bytes > PACKAGE_LIMITS.maxNameBytes ||
    segments.some((s) => Buffer.byteLength(s) > PACKAGE_LIMITS.maxSegmentBytes)
  ) {
    return {
      rule: 'name_too_long',
      message: `the name is too long: at most ${PACKAGE_LIMITS.maxNameBytes} bytes in all and ${PACKAGE_LIMITS.maxSegmentBytes} for each folder or file name`,
    };
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return { rule: 'name', message: 'the name has control characters' };
  if (name.includes('\\'))
    return { rule: 'name', message: 'the name has a backslash: folders are separated by /' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return { rule: 'path', message: 'an absolute path: entries must be relative to the package' };
  }
  if (segments.some((s) => s === '..')) return { rule: 'path', message: 'a path leads outside the package' };
  if (segments.some((s) => s === '' || s === '.')) {
    return { rule: 'path', message: 'an empty or "." folder name in the path' };
  }
  return null;
}

/**
 * Entries whose data overlap: the shape of a zip bomb that makes one compressed stream the content
 * of many entries. An entry's data starts after its local header, so its range starts at the header.
 */
function overlaps(entries: Named[]): Problem[] {
  const sorted = entries
    .filter(({ entry }) => entry.compressedSize > 0)
    .sort((a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader);
  const problems: Problem[] = [];
  let end = -1;
  for (const { entry, shown } of sorted) {
    if (entry.relativeOffsetOfLocalHeader < end) {
      problems.push({
        path: shown,
        rule: 'overlap',
        message: 'the entry shares its data with another entry',
      });
    }
    end = Math.max(end, entry.relativeOffsetOfLocalHeader + 30 + entry.fileNameLength + entry.compressedSize);
  }
  return problems;
}

/** Writes the checked entries' files under `root`. */
async function write(file: yauzl.ZipFile, entries: Named[], root: string): Promise<void> {
  const prefix = commonFolder(entries.map((e) => e.name!));
  for (const { entry, name, shown } of entries) {
    if (name!.endsWith('/')) continue;
    const dest = resolve(root, name!.slice(prefix.length));
    if (!dest.startsWith(root + sep)) reject('path', 'a path leads outside the package', shown);
    await mkdir(dirname(dest), { recursive: true });
    // What went wrong reading the zip is the package's problem; writing the file, the server's.
    let damage: Error | undefined;
    const stream = await new Promise<NodeJS.ReadableStream>((done, fail) =>
      file.openReadStream(entry, (err, s) => (err ? fail(err) : done(s))),
    ).catch((err: Error) => reject('bad_entry', `the entry cannot be read: ${err.message}`, shown));
    stream.on('error', (err: Error) => (damage ??= err));
    let crc = 0;
    const checksum = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        crc = crc32(chunk, crc);
        next(null, chunk);
      },
    });
    try {
      // validateEntrySizes fails the stream if it inflates to more or less than the header said, so
      // the sizes checked above are the sizes written.
      await pipeline(stream, checksum, createWriteStream(dest, { flags: 'wx' }));
    } catch (error) {
      if (!damage) throw error;
      reject('bad_entry', `the entry cannot be read: ${damage.message}`, shown);
    }
    if (crc !== entry.crc32)
      reject('bad_entry', 'the entry is damaged: its content does not match its checksum', shown);
  }
}

/** `folder/` when every entry sits inside one top-level folder that holds template.json. */
function commonFolder(names: string[]): string {
  const first = names[0]?.split('/')[0];
  if (!first || names.includes('template.json')) return '';
  const prefix = `${first}/`;
  return names.every((n) => n.startsWith(prefix)) && names.includes(`${prefix}template.json`) ? prefix : '';
}
