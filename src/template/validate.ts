import { PlatenError, type Problem } from '../errors.js';
import { checkRecord, samples } from '../pipeline.js';
import { compileTemplate } from './compile.js';
import type { CompiledTemplate } from './model.js';

/**
 * Everything `platen validate` checks: the manifest, its assets and fonts, every Handlebars path and
 * helper, element geometry, locked text fitting, and every sample record validating and fitting.
 */
export async function validateTemplate(
  dir: string,
): Promise<{ compiled?: CompiledTemplate; problems: Problem[] }> {
  let compiled: CompiledTemplate;
  try {
    compiled = await compileTemplate(dir);
  } catch (error) {
    if (error instanceof PlatenError) return { problems: error.problems };
    throw error;
  }
  const problems: Problem[] = [];
  if (compiled.manifest.samples.length === 0) {
    problems.push({ path: 'samples', rule: 'no_samples', message: 'add at least one sample record' });
  }
  samples(compiled).forEach((sample, i) => {
    for (const p of checkRecord(compiled, sample.record, sample.images)) {
      // Record paths sit under the sample's record; element paths (elements.x) under the sample.
      const under = p.path.startsWith('elements.') ? `samples[${i}]` : `samples[${i}].record`;
      problems.push({ ...p, path: `${under}.${p.path}` });
    }
  });
  return { compiled, problems };
}
