import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PlatenError, type Problem } from '../errors.js';
import type { CompiledTemplate } from '../model/template.js';
import { type PreparedImage, prepareImage } from './images.js';

/**
 * Loads the images a record file names in its image inputs, as paths relative to the record file.
 * For the command line, whose user owns the files; the API resolves uploads from the store instead.
 */
export async function loadRecordImages(
  compiled: CompiledTemplate,
  record: unknown,
  baseDir: string,
): Promise<Map<string, PreparedImage>> {
  const images = new Map<string, PreparedImage>();
  const problems: Problem[] = [];
  if (typeof record !== 'object' || record === null) return images;
  for (const scope of ['rep', 'prospect', 'fields'] as const) {
    const values = (record as Record<string, unknown>)[scope];
    if (typeof values !== 'object' || values === null) continue;
    for (const [key, def] of Object.entries(compiled.inputs[scope])) {
      const ref = (values as Record<string, unknown>)[key];
      if (def.type !== 'image' || typeof ref !== 'string' || ref === '' || images.has(ref)) continue;
      try {
        images.set(ref, await prepareImage(await readFile(resolve(baseDir, ref))));
      } catch (error) {
        problems.push({
          path: `${scope}.${key}`,
          rule: 'bad_image',
          message: `${ref}: ${(error as Error).message}`,
        });
      }
    }
  }
  if (problems.length > 0) throw new PlatenError('invalid_record', problems);
  return images;
}
