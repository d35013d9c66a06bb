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
