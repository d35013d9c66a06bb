import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Writes a file under a temporary name and renames it into place only when complete: a file with
 * the final name is always whole, and a failure leaves nothing behind.
 */
export async function writeAtomically<T>(path: string, write: (out: Writable) => Promise<T>): Promise<T> {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const out = createWriteStream(temp, { flags: 'wx' });
  // Fail now, with the path, if the file cannot be created (a missing folder, no permission).
  await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject)).catch(
    (error: Error) => {
      throw new CannotWriteError(path, error);
    },
  );
  try {
    const result = await write(out);
    // finished() rejects for an error the stream had already met: a write that failed (a full disk)
    // while `write` went on would otherwise leave this waiting for a 'finish' that never comes.
    if (!out.writableEnded) out.end();
    await finished(out);
    await rename(temp, path);
    return result;
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}

/** The output file cannot be created where asked: a usage problem, not a rejected input. */
export class CannotWriteError extends Error {
  constructor(path: string, cause: Error) {
    // The cause keeps its code: a full disk is still a storage failure (see storageFault).
    super(`cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`, { cause });
  }
}

/** A folder's entries; none if it is not there. */
export async function folderEntries(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
}

/**
 * Waits until `out` can take more, or throws the error it has met. A stream that has failed (a full
 * disk) takes further writes without a word and never drains: writers that only waited for drain
 * went on drawing into it, or waited for ever.
 */
export async function roomIn(out: Writable): Promise<void> {
  if (out.errored) throw out.errored;
  if (out.writableNeedDrain) await once(out, 'drain');
}
