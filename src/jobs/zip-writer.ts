import type { Writable } from 'node:stream';
import { roomIn } from '../files.js';

/**
 * A ZIP of stored (not deflated) files whose CRC-32 and size are known before they are written: a ZIP
 * drop's PDFs, compressed already, each with the CRC its worker computed natively (zlib.crc32). A
 * file goes out as its local header and its bytes, straight to the output under its backpressure;
 * the central directory follows at the end, in ZIP64 form when the drop outgrows the classic format
 * (65,535 files, or 4 GiB before the directory). The format is PKWARE's APPNOTE.TXT, sections 4.3
 * and 4.5.3.
 *
 * Written here, not taken from a library: no streaming ZIP writer we found takes a CRC computed
 * elsewhere, and yazl, computing it in JavaScript on the coordinating thread, slowed large drops
 * (docs/perf.md).
 */
export class ZipWriter {
  /** Bytes written so far: where the next local header starts. */
  private offset = 0;
  /** Central directory records, in file order; about 100 bytes a file. */
  private readonly directory: Buffer[] = [];
  private readonly time: number;
  private readonly date: number;

  constructor(
    private readonly out: Writable,
    /** Every file's modification time: when the drop was made. */
    modified = new Date(),
  ) {
    // MS-DOS date and time, local time, two-second resolution; the format's epoch is 1980.
    const year = Math.max(modified.getFullYear(), 1980);
    this.date = ((year - 1980) << 9) | ((modified.getMonth() + 1) << 5) | modified.getDate();
    this.time = (modified.getHours() << 11) | (modified.getMinutes() << 5) | (modified.getSeconds() >> 1);
  }

  get files(): number {
    return this.directory.length;
  }

  /** Adds a file (its bytes, and their CRC-32); resolves when the output can take more. */
  async add(name: string, data: Uint8Array, crc32: number): Promise<void> {
    if (data.length >= MAX_32) throw new RangeError(`${name} is too large for a ZIP drop (4 GiB or more)`);
    const fileName = Buffer.from(name, 'utf8');
    const header = zeroed(30 + fileName.length);
    header.writeUInt32LE(0x04034b50, 0); // local file header signature
    this.common(header, 4, VERSION_NEEDED, crc32, data.length, fileName.length);
    header.writeUInt16LE(0, 28); // extra field length
    fileName.copy(header, 30);
    this.directory.push(this.directoryRecord(fileName, crc32, data.length, this.offset));
    this.offset += header.length + data.length;
    this.out.write(header);
    this.out.write(data);
    await roomIn(this.out);
  }

  /** Writes the central directory and the end records. The caller ends the output. */
  async end(): Promise<void> {
    const start = this.offset;
    for (const record of this.directory) {
      this.out.write(record);
      this.offset += record.length;
      await roomIn(this.out);
    }
    const size = this.offset - start;
    const count = this.directory.length;
    if (count >= MAX_16 || start >= MAX_32 || size >= MAX_32) {
      const zip64 = Buffer.alloc(56 + 20);
      zip64.writeUInt32LE(0x06064b50, 0); // ZIP64 end of central directory record
      zip64.writeBigUInt64LE(44n, 4); // size of the rest of this record
      zip64.writeUInt16LE(MADE_BY | ZIP64_VERSION, 12);
      zip64.writeUInt16LE(ZIP64_VERSION, 14);
      // 16, 20: this disk and the directory's disk, both 0
      zip64.writeBigUInt64LE(BigInt(count), 24); // files on this disk
      zip64.writeBigUInt64LE(BigInt(count), 32); // files in all
      zip64.writeBigUInt64LE(BigInt(size), 40);
      zip64.writeBigUInt64LE(BigInt(start), 48);
      zip64.writeUInt32LE(0x07064b50, 56); // ZIP64 end of central directory locator
      // 60: the disk of the ZIP64 record, 0
      zip64.writeBigUInt64LE(BigInt(this.offset), 64);
      zip64.writeUInt32LE(1, 72); // disks in all
      this.out.write(zip64);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0); // end of central directory record
    // 4, 6: this disk and the directory's disk, both 0
    end.writeUInt16LE(Math.min(count, MAX_16), 8);
    end.writeUInt16LE(Math.min(count, MAX_16), 10);
    end.writeUInt32LE(Math.min(size, MAX_32), 12);
    end.writeUInt32LE(Math.min(start, MAX_32), 16);
    // 20: comment length, 0
    this.out.write(end);
    await roomIn(this.out);
  }

  /** The fields a local header and a directory record share, from `at`: version needed to crc and names. */
  private common(
    record: Buffer,
    at: number,
    version: number,
    crc32: number,
    size: number,
    nameLength: number,
  ) {
    record.writeUInt16LE(version, at);
    record.writeUInt16LE(UTF8_NAME, at + 2);
    record.writeUInt16LE(0, at + 4); // stored
    record.writeUInt16LE(this.time, at + 6);
    record.writeUInt16LE(this.date, at + 8);
    record.writeUInt32LE(crc32 >>> 0, at + 10);
    record.writeUInt32LE(size, at + 14); // compressed size: stored, the same
    record.writeUInt32LE(size, at + 18);
    record.writeUInt16LE(nameLength, at + 22);
  }

  private directoryRecord(fileName: Buffer, crc32: number, size: number, offset: number): Buffer {
    // A file that starts 4 GiB or more into the ZIP gives its offset in a ZIP64 extra field.
    const far = offset >= MAX_32;
    const version = far ? ZIP64_VERSION : VERSION_NEEDED;
    const record = zeroed(46 + fileName.length + (far ? 12 : 0));
    record.writeUInt32LE(0x02014b50, 0); // central file header signature
    record.writeUInt16LE(MADE_BY | version, 4);
    this.common(record, 6, version, crc32, size, fileName.length);
    record.writeUInt16LE(far ? 12 : 0, 30); // extra field length
    // 32, 34, 36: comment length, disk number, internal attributes, all 0
    record.writeUInt32LE(FILE_MODE, 38); // external attributes: a regular file, rw-r--r--
    record.writeUInt32LE(far ? MAX_32 : offset, 42);
    fileName.copy(record, 46);
    if (far) {
      const extra = 46 + fileName.length;
      record.writeUInt16LE(0x0001, extra); // ZIP64 extended information
      record.writeUInt16LE(8, extra + 2);
      record.writeBigUInt64LE(BigInt(offset), extra + 4);
    }
    return record;
  }
}

/** A small zeroed buffer from Node's shared pool: a drop's directory holds one per file, not one allocation each. */
function zeroed(length: number): Buffer {
  return Buffer.allocUnsafe(length).fill(0);
}

const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;
/** 2.0: stored files; 4.5: ZIP64 fields. */
const VERSION_NEEDED = 20;
const ZIP64_VERSION = 45;
/** Made on Unix (3 in the high byte), so that FILE_MODE is read as Unix permissions. */
const MADE_BY = 3 << 8;
/** General purpose flag bit 11: the file name is UTF-8. */
const UTF8_NAME = 1 << 11;
const FILE_MODE = (0o100644 << 16) >>> 0;
