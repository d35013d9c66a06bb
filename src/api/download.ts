import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { JobFile } from '../service/jobs.js';

/**
 * Sends a stored file as a download named `name` (its type from the name), from the object store
 * it lives in: whole, or the one byte range a `Range` header asks for (206), so that a client can
 * resume a large print file. A range that cannot be satisfied is 416; several ranges, or a header
 * that is not a byte range, get the whole file, as RFC 9110 allows.
 */
export async function sendFile(req: Request, res: Response, file: JobFile, name: string): Promise<void> {
  res.attachment(name).set({ 'Accept-Ranges': 'bytes', 'Cache-Control': 'private, no-cache' });
  const range = byteRange(req.get('Range'), file.size);
  if (range === 'unsatisfiable') {
    res.status(416).set('Content-Range', `bytes */${file.size}`).end();
    return;
  }
  if (range) {
    res.status(206).set('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  }
  res.set('Content-Length', String(range ? range.end - range.start + 1 : file.size));
  if (req.method === 'HEAD' || file.size === 0) {
    res.end();
    return;
  }
  // A client that goes away ends the pipeline, and with it the read from the store.
  await pipeline(await file.read(range ?? undefined), res).catch((error: unknown) => {
    if (!req.socket.destroyed) throw error;
  });
}

/** The one range of a `Range: bytes=…` header, within `size`; null for none (or not one range). */
function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [, first, last] = match;
  if (first === '') {
    // The last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
