import { z } from 'zod';
import type { ChunkResult } from './chunk.js';

/**
 * A finished chunk as its checkpoint keeps it: without its pieces, which the job recorded before
 * saving it (see JobService).
 */
export type SavedChunk = Omit<ChunkResult, 'pieces'>;

const count = z.number().int().nonnegative();
const savedChunk: z.ZodType<SavedChunk> = z.object({
  index: count,
  rendered: count,
  pages: count,
  rejected: z.array(
    z.object({
      row: count,
      line: count,
      problems: z.array(z.looseObject({ path: z.string(), rule: z.string(), message: z.string() })),
      cells: z.array(z.object({ column: z.string(), value: z.string() })),
    }),
  ),
  files: z.array(z.object({ row: count, name: z.string().nullable(), bytes: count, crc32: count })),
  part: z.string().nullable(),
  heldOut: count,
});

/**
 * A job's checkpoints as the store gives them back, as this build writes them. One that an earlier
 * build saved without a field this build needs (a rejected row's cells, a ZIP file's CRC, the rows
 * held out) is left out: its chunk is drawn again.
 */
export function checkpointsOf(saved: Map<number, unknown>): Map<number, SavedChunk> {
  return new Map(
    [...saved].flatMap(([index, result]) => {
      const parsed = savedChunk.safeParse(result);
      return parsed.success ? [[index, parsed.data]] : [];
    }),
  );
}
