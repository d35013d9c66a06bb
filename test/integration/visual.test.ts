/**
 * Visual regression: page 1 of sample 0 of every bundled template, rendered by pdfjs at 72 dpi and
 * compared with the committed baseline test/baselines/<template>-p1.png.
 *
 * To accept an intended change, run `UPDATE_BASELINES=1 npx vitest run test/integration/visual.test.ts`
 * locally, look at the new PNGs, and commit them (CI ignores UPDATE_BASELINES and always compares).
 *
 * The tolerance was measured, not guessed: re-rendering gives 0 differing pixels, and a changed
 * first name changes 0.10 % (letter), 0.18 % (brochure) and 2 % (postcard) of the page's pixels. So
 * up to 0.05 % of pixels may differ by more than 16 levels (anti-aliasing on another machine), and
 * each template's second test proves that a changed first name still fails the comparison.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordImages } from '../../src/model/piece.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { compareWithBaseline, rasterizePage, type CompareOptions } from '../support/raster.js';
import { discoverTemplates, REPO_ROOT, TEMPLATES_DIR } from '../support/repo.js';

const BASELINES_DIR = path.join(REPO_ROOT, 'test', 'baselines');

/** 72 dpi: a Letter page is 630 × 810 px with bleed, and its PNG well under the size budget. */
const SCALE = 1;
const MAX_PNG_BYTES = 300 * 1024;
const TOLERANCE: CompareOptions = { maxDiffRatio: 0.0005, channelTolerance: 16 };

interface SampleRecord {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

async function firstPagePng(
  compiled: CompiledTemplate,
  record: unknown,
  images: RecordImages,
): Promise<Buffer> {
  const pdf = await renderToBuffer(compiled, [preparePiece(compiled, record, images)]);
  return rasterizePage(pdf, 1, SCALE);
}

/** Runs `use` with UPDATE_BASELINES unset, so a comparison cannot rewrite its baseline. */
async function comparingOnly<T>(use: () => Promise<T>): Promise<T> {
  const saved = process.env.UPDATE_BASELINES;
  delete process.env.UPDATE_BASELINES;
  try {
    return await use();
  } finally {
    if (saved !== undefined) process.env.UPDATE_BASELINES = saved;
  }
}

const TEMPLATES = discoverTemplates();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'platen-visual-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it('finds the bundled templates', () => {
  expect(TEMPLATES).toEqual(expect.arrayContaining(['insurance-brochure', 'letter-window', 'postcard-6x4']));
});

describe.each(TEMPLATES)('%s, page 1 of sample 0', (folder) => {
  const baseline = path.join(BASELINES_DIR, `${folder}-p1.png`);
  let compiled: CompiledTemplate;
  let record: SampleRecord;
  let images: RecordImages;

  beforeAll(async () => {
    compiled = await compileTemplate(path.join(TEMPLATES_DIR, folder));
    const sample = samples(compiled)[0];
    if (!sample) throw new Error(`${folder} has no sample 0`);
    record = sample.record as SampleRecord;
    images = sample.images;
  });

  it(`matches test/baselines/${folder}-p1.png`, async () => {
    const png = await firstPagePng(compiled, record, images);
    expect(png.length).toBeLessThan(MAX_PNG_BYTES);
    const result = await compareWithBaseline(png, baseline, TOLERANCE);
    expect(result.pass, result.message).toBe(true);
  });

  it('fails the same comparison when the first name changes', async () => {
    const changed = structuredClone(record);
    expect(changed.prospect.firstName).not.toBe('Renée');
    changed.prospect.firstName = 'Renée';
    const png = await firstPagePng(compiled, changed, images);
    // Against a copy of the baseline, artifacts in the scratch dir: nothing in the repo is touched.
    const copy = path.join(scratch, `${folder}-p1.png`);
    await copyFile(baseline, copy);
    const result = await comparingOnly(() =>
      compareWithBaseline(png, copy, { ...TOLERANCE, outputDir: path.join(scratch, 'out') }),
    );
    expect(result.pass, result.message).toBe(false);
    expect(result.diffRatio).toBeGreaterThan(TOLERANCE.maxDiffRatio);
    expect(result.diffRatio).toBeLessThan(1); // same size: a real pixel comparison happened
  });
});
