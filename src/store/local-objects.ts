import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { writeAtomically } from '../files.js';
import type { ByteRange, ObjectStore } from './store.js';

/**
 * Objects as files under one folder (the data directory), a key's `/`s its folders: the default,
 * for a service on one machine. Files are written under temporary names and renamed into place.
 */
export class LocalObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    return join(this.root, ...checkedKey(key).split('/'));
  }

  async write<T>(key: string, write: (out: Writable) => Promise<T>): Promise<T> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    return writeAtomically(path, write);
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    await moveFile(path, target);
  }

  async putFolder(prefix: string, dir: string): Promise<void> {
    const target = this.path(checkedPrefix(prefix));
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(dir, target);
  }

  async size(key: string): Promise<number | null> {
    const found = await stat(this.path(key)).catch(notFound);
    return found?.isFile() ? found.size : null;
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.path(key);
    if ((await this.size(key)) === null) return null;
    return createReadStream(path, range ?? {});
  }

  async localFile(key: string): Promise<string | null> {
    return (await this.size(key)) === null ? null : this.path(key);
  }

  async localFolder(prefix: string): Promise<string> {
    return this.path(checkedPrefix(prefix));
  }

  /** The object is its own local file: nothing to remove. */
  async release(key: string): Promise<void> {
    checkedKey(key);
  }

  async list(prefix: string, writtenBefore?: number): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of (await readdir(dir, { withFileTypes: true }).catch(notFound)) ?? []) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.endsWith('.tmp')) {
          if (writtenBefore !== undefined && (await stat(path)).mtimeMs >= writtenBefore) continue;
          keys.push(relative(this.root, path).split(sep).join('/'));
        }
      }
    };
    // The folder the prefix ends in (or is), then only the keys that start with it.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(folder === '' ? this.root : this.path(folder));
    return keys.filter((key) => key.startsWith(prefix));
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async deleteAll(prefix: string): Promise<void> {
    await rm(this.path(checkedPrefix(prefix)), { recursive: true, force: true });
  }

  /** Temporary files are left where they were written: each writer's own clean-up removes them. */
  async sweep(): Promise<string[]> {
    return [];
  }
}

/** Moves a file, copying it across file systems (an upload's temporary folder may be on another). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const temp = `${to}.${process.pid}.tmp`;
    await copyFile(from, temp);
    await rename(temp, to);
    await rm(from, { force: true });
  }
}

/** A key: `/`-separated names, none empty, `.` or `..`. Anything else is a bug, thrown. */
export function checkedKey(key: string): string {
  const names = key.split('/');
  if (names.some((name) => name === '' || name === '.' || name === '..' || name.includes('\\')))
    throw new Error(`not an object key: ${key}`);
  return key;
}

/** A prefix of keys: a key followed by `/`; returned without it. */
export function checkedPrefix(prefix: string): string {
  if (!prefix.endsWith('/')) throw new Error(`not a key prefix: ${prefix}`);
  return checkedKey(prefix.slice(0, -1));
}

function notFound(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
  throw error;
}
