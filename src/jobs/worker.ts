import { TemplateCache } from '../template/cache.js';
import { compileTemplate, withMarks } from '../template/compile.js';
import { type ChunkResult, type ChunkTask, renderChunk } from './chunk.js';
import { toCrossing } from './dispatch.js';

/**
 * A batch worker thread (see dispatch.ts): renders chunks, compiling each template once and keeping
 * it for the chunks that follow.
 */
const templates = new TemplateCache(4);

/** The pool's no-op (see WorkerPool.close): answered once this module has loaded. */
export function loaded(): null {
  return null;
}

export default async function run(task: ChunkTask): Promise<ChunkResult> {
  try {
    const { dir, version, marks } = task.template;
    const compiled = await templates.get(dir, version ?? 0, () =>
      compileTemplate(dir, version === undefined ? {} : { version }),
    );
    return await renderChunk(withMarks(compiled, marks), task);
  } catch (error) {
    throw toCrossing(error);
  }
}
