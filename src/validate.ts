import { PlatenError, type Problem } from './errors.js';
import type { CompiledTemplate } from './model/template.js';
import { fitRecord, samples } from './pipeline.js';
import type { Finding } from './preflight/findings.js';
import { preflightPiece } from './preflight/piece.js';
import { svgDrawnLive } from './render/document.js';
import { validateRecord } from './merge/merge.js';
import { compileTemplate, readManifest } from './template/compile.js';
import { buildRecordSchema } from './template/record-schema.js';

/**
 * Whole-package validation, above the steps as it runs a template's samples through every one of
 * them. Everything `platen validate` checks: the manifest, its assets and fonts (every image and glyph
 * decoded, SVG art parsed within its limits), every Handlebars path and
 * helper, element geometry (address zones included), locked text fitting, every sample record
 * validating and fitting, and a preflight of every sample piece. Preflight errors (an image under
 * 150 ppi) are problems; its warnings are returned apart and do not make the template invalid.
 */
export async function validateTemplate(
  dir: string,
): Promise<{ compiled?: CompiledTemplate; problems: Problem[]; warnings: Finding[] }> {
  let compiled: CompiledTemplate;
  try {
    compiled = await compileTemplate(dir, { check: true });
  } catch (error) {
    if (!(error instanceof PlatenError)) throw error;
    return { problems: [...error.problems, ...(await sampleRecordProblems(dir))], warnings: [] };
  }
  const problems: Problem[] = [];
  const warnings: Finding[] = [];
  if (compiled.manifest.samples.length === 0) {
    problems.push({ path: 'samples', rule: 'no_samples', message: 'add at least one sample record' });
  }
  samples(compiled).forEach((sample, i) => {
    let sampleProblems: Problem[];
    try {
      const { fitted, problems: fitProblems } = fitRecord(compiled, sample.record, sample.images);
      sampleProblems = fitProblems;
      if (fitProblems.length === 0) {
        for (const finding of preflightPiece(compiled, fitted, sample.name, svgDrawnLive)) {
          if (finding.severity === 'warning') warnings.push(finding);
          else
            sampleProblems.push({
              path: `elements.${finding.element}`,
              rule: finding.rule,
              message: finding.message,
            });
        }
      }
    } catch (error) {
      if (!(error instanceof PlatenError)) throw error;
      sampleProblems = error.problems;
    }
    for (const p of sampleProblems) {
      // Record paths sit under the sample's record; element paths (elements.x) under the sample.
      const under = p.path.startsWith('elements.') ? `samples[${i}]` : `samples[${i}].record`;
      problems.push({ ...p, path: `${under}.${p.path}` });
    }
  });
  return { compiled, problems, warnings };
}

/**
 * The samples' records checked against the template's inputs, for a template that does not compile
 * (an element's mistake): so one check reports a sample's mistakes too, not only after the
 * elements are put right. None when the manifest itself is not valid.
 */
async function sampleRecordProblems(dir: string): Promise<Problem[]> {
  const manifest = await readManifest(dir).catch((error: unknown) => {
    if (error instanceof PlatenError) return null;
    throw error;
  });
  if (!manifest) return [];
  const recordSchema = buildRecordSchema(manifest);
  return manifest.samples.flatMap(({ record }, i) => {
    const inputs = { rep: manifest.rep, prospect: manifest.prospect, fields: manifest.fields };
    const result = validateRecord({ recordSchema, inputs }, record);
    return result.ok ? [] : result.problems.map((p) => ({ ...p, path: `samples[${i}].record.${p.path}` }));
  });
}
