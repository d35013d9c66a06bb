/**
 * Template packages as zips: yazl's, with the hostile extras a zip tool could write (a traversal
 * name, a symlink, many files), and a raw writer for what yazl refuses: names in any bytes (`..`,
 * absolute, 6,000 characters, not UTF-8), duplicates, any flags, compression method, mode, CRC or
 * declared size, and entries that share their data.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import yazl from 'yazl';

/** A package folder's files, as names relative to it with `/` between folders, sorted. */
async function packageFiles(dir: string): Promise<string[]> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  return files
    .filter((f) => f.isFile())
    .map((f) => path.relative(dir, path.join(f.parentPath, f.name)).split(path.sep).join('/'))
    .sort();
}

export interface ZipOptions {
  /** Put every entry under this top-level folder (`spring/template.json`). */
  folder?: string;
  /** Add an entry named `../evil.txt`. */
  traversal?: boolean;
  /** Add a symlink entry (`link` → `/etc/passwd`). */
  symlink?: boolean;
  /** Add this many tiny files. */
  manyFiles?: number;
  /** Leave these package files out. */
  omit?: string[];
  /** Add an entry for each directory too, as `zip -r` does (`folder/`, `folder/fonts/`). */
  directories?: boolean;
}

/**
 * yazl refuses `..` in names, so the traversal entry is written as `x./evil.txt` (same length) and
 * its name patched to `../evil.txt` in the finished archive; names are not covered by the CRCs.
 */
const TRAVERSAL_PLACEHOLDER = 'x./evil.txt';

/** Zips a folder (a template package) with yazl, plus any hostile extras asked for. */
export async function zipFolder(dir: string, options: ZipOptions = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const prefix = options.folder ? `${options.folder}/` : '';
  const files = await packageFiles(dir);
  if (options.directories) {
    const dirs = new Set(
      files.flatMap((f) =>
        f
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    );
    if (options.folder) zip.addEmptyDirectory(options.folder);
    for (const d of [...dirs].sort()) zip.addEmptyDirectory(`${prefix}${d}`);
  }
  for (const rel of files) {
    if (options.omit?.includes(rel)) continue;
    zip.addBuffer(await readFile(path.join(dir, rel)), `${prefix}${rel}`);
  }
  if (options.traversal) zip.addBuffer(Buffer.from('outside the package\n'), TRAVERSAL_PLACEHOLDER);
  if (options.symlink) zip.addBuffer(Buffer.from('/etc/passwd'), `${prefix}link`, { mode: 0o120777 });
  for (let i = 0; i < (options.manyFiles ?? 0); i++) {
    zip.addBuffer(Buffer.from('x'), `${prefix}many/f${i}.txt`, { compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  if (options.traversal) {
    const from = Buffer.from(TRAVERSAL_PLACEHOLDER);
    const to = Buffer.from('../evil.txt');
    let at = out.indexOf(from);
    let patched = 0;
    while (at !== -1) {
      to.copy(out, at);
      patched += 1;
      at = out.indexOf(from, at + 1);
    }
    // Once in the local header, once in the central directory.
    if (patched !== 2) throw new Error(`patched the traversal name ${patched} times`);
  }
  return out;
}

export interface RawEntry {
  /** The name's bytes as written (a string is written as UTF-8). */
  name: string | Buffer;
  data?: Buffer;
  /** General purpose flags; by default 0x0800 (the name is UTF-8). Bit 0 marks the entry encrypted. */
  flags?: number;
  /** The compression method the headers claim; by default deflate (8) for data, stored (0) for none. */
  method?: number;
  /** Unix mode (type and permissions); by default a file, or a folder for a name ending in /. */
  mode?: number;
  /** Overrides of the headers' CRC and uncompressed size. */
  crc?: number;
  size?: number;
  /** Point the central directory at an earlier entry's local header and data (its index). */
  sameDataAs?: number;
}

/** The zip of these entries. */
export function rawZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name) : entry.name;
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method ?? (data.length > 0 ? 8 : 0);
    const stored = method === 8 ? deflateRawSync(data) : data;
    const flags = entry.flags ?? 0x0800;
    const crc = entry.crc ?? crc32(data);
    const size = entry.size ?? data.length;
    const isFolder = name.at(-1) === 0x2f;
    const mode = entry.mode ?? (isFolder ? 0o040755 : 0o100644);
    let at = offset;
    if (entry.sameDataAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(0x21, 12); // 1980-01-01
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(stored.length, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      parts.push(local, name, stored);
      offset += local.length + name.length + stored.length;
    } else {
      at = offsets[entry.sameDataAs]!;
    }
    offsets.push(at);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode is read
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(stored.length, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE((mode << 16) >>> 0, 38);
    header.writeUInt32LE(at, 42);
    central.push(header, name);
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** A package folder's files as entries (names relative to it, sorted), for rawZip. */
export async function folderEntries(dir: string): Promise<RawEntry[]> {
  const names = await packageFiles(dir);
  return Promise.all(names.map(async (name) => ({ name, data: await readFile(path.join(dir, name)) })));
}
