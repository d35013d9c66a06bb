/**
 * A zip writer that writes whatever it is told: names in any bytes (`..`, absolute, 6,000 characters,
 * not UTF-8), duplicates, any flags, compression method, mode, CRC or declared size, and entries that
 * share their data. yazl (test/api/helpers.ts) refuses most of these; hostile packages need them.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

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
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const names = files
    .filter((f) => f.isFile())
    .map((f) => path.relative(dir, path.join(f.parentPath, f.name)).split(path.sep).join('/'))
    .sort();
  return Promise.all(names.map(async (name) => ({ name, data: await readFile(path.join(dir, name)) })));
}
