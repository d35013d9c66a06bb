import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';

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
    if (!out.writableFinished) {
      out.end();
      await new Promise<void>((resolve, reject) => out.on('finish', resolve).on('error', reject));
    }
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
    super(`cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`);
  }
}
