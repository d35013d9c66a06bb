/**
 * Visual checks: render a PDF page to PNG with pdfjs-dist + @napi-rs/canvas and compare it with a
 * committed baseline image.
 */
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { rasterizePage as rasterize } from '../../src/render/raster.js';
import type { PdfSource } from './pdf.js';
import { REPO_ROOT } from './repo.js';

// ---------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------

/**
 * Renders page `pageNumber` (1-based) at `scale` (1 = 72 dpi) and returns PNG bytes, exactly as the
 * service renders previews (src/render/raster.ts).
 */
export async function rasterizePage(pdf: PdfSource, pageNumber: number, scale: number): Promise<Buffer> {
  const bytes = typeof pdf === 'string' ? await readFile(pdf) : pdf;
  return rasterize(bytes, pageNumber, scale);
}

// ---------------------------------------------------------------------------------------------------------
// Baseline comparison
// ---------------------------------------------------------------------------------------------------------

export interface CompareOptions {
  /** Largest acceptable fraction (0..1) of pixels that differ. */
  maxDiffRatio: number;
  /** Largest per-channel difference (0..255) that still counts as the same pixel (anti-aliasing noise). */
  channelTolerance: number;
  /** Where `.actual.png`/`.diff.png` go on failure; defaults to test/output/visual/. */
  outputDir?: string;
}

export interface CompareResult {
  pass: boolean;
  /** Fraction of differing pixels: 0 when the baseline was just written, 1 when sizes differ. */
  diffRatio: number;
  message: string;
}

const REPO_TEST_DIR = path.join(REPO_ROOT, 'test');
const DEFAULT_OUTPUT_DIR = path.join(REPO_TEST_DIR, 'output', 'visual');
const BASELINES_DIR = path.join(REPO_TEST_DIR, 'baselines');

/** CI systems set CI=true (GitHub, GitLab, …); an empty, "0" or "false" value means a developer unset it. */
function envFlag(name: string): boolean {
  const value = process.env[name]?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

async function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

interface RgbaImage {
  width: number;
  height: number;
  data: Buffer;
}

async function decodeRgba(png: Buffer | string): Promise<RgbaImage> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/**
 * Counts pixels where any RGBA channel differs by more than `tolerance`, and paints a diff image: those
 * pixels red, the rest a faint grey copy of the baseline so the differences can be located.
 */
function diffImages(
  actual: RgbaImage,
  baseline: RgbaImage,
  tolerance: number,
): { count: number; diff: Buffer } {
  const diff = Buffer.alloc(baseline.data.length);
  let count = 0;
  for (let i = 0; i < baseline.data.length; i += 4) {
    const a = actual.data.subarray(i, i + 4);
    const b = baseline.data.subarray(i, i + 4);
    const differs = b.some((value, channel) => Math.abs(value - (a[channel] ?? 0)) > tolerance);
    if (differs) count++;
    const luma = 0.299 * (b[0] ?? 0) + 0.587 * (b[1] ?? 0) + 0.114 * (b[2] ?? 0);
    const ghost = Math.round(255 - (255 - luma) / 4);
    diff.set(differs ? [255, 0, 0, 255] : [ghost, ghost, ghost, 255], i);
  }
  return { count, diff };
}

/**
 * Failure artifacts mirror the baseline's path under test/baselines/ (so baselines with the same file
 * name in different folders do not overwrite each other's artifacts); other baselines use the name only.
 */
function artifactPaths(baselinePath: string, outputDir: string): { actual: string; diff: string } {
  const absolute = path.resolve(baselinePath);
  const relative = path.relative(BASELINES_DIR, absolute);
  const inBaselines = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  const stem = (inBaselines ? relative : path.basename(absolute)).replace(/\.png$/i, '');
  return {
    actual: path.join(outputDir, `${stem}.actual.png`),
    diff: path.join(outputDir, `${stem}.diff.png`),
  };
}

async function writeFileWithDirs(file: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
}

function validateOptions({ maxDiffRatio, channelTolerance }: CompareOptions): void {
  // Catches percentages passed as ratios (5 instead of 0.05), which would make every comparison pass.
  if (!(maxDiffRatio >= 0 && maxDiffRatio <= 1)) {
    throw new RangeError(`maxDiffRatio must be 0..1, got ${maxDiffRatio}`);
  }
  if (!(channelTolerance >= 0 && channelTolerance <= 255)) {
    throw new RangeError(`channelTolerance must be 0..255, got ${channelTolerance}`);
  }
}

/**
 * Compares PNG bytes with the baseline PNG at `baselinePath`.
 *
 * - Baseline missing: written and passes locally; fails when CI is set, so a baseline that was never
 *   committed cannot make a visual test pass vacuously in CI.
 * - UPDATE_BASELINES=1: rewrites the baseline and passes (ignored in CI, which always compares).
 * - Different size, or more than `maxDiffRatio` of pixels differing: fails, writing `<name>.actual.png`
 *   and `<name>.diff.png` to the output directory; the message names both files.
 */
export async function compareWithBaseline(
  png: Buffer,
  baselinePath: string,
  opts: CompareOptions,
): Promise<CompareResult> {
  validateOptions(opts);
  const inCi = envFlag('CI');
  const updateRequested = envFlag('UPDATE_BASELINES');
  const exists = await fileExists(baselinePath);

  if (!exists && inCi) {
    return {
      pass: false,
      diffRatio: 1,
      message: `Baseline ${baselinePath} is missing and CI is set: run the test locally to create it and commit it.`,
    };
  }
  if (!exists || (updateRequested && !inCi)) {
    await writeFileWithDirs(baselinePath, png);
    const reason = exists ? 'UPDATE_BASELINES is set' : 'it did not exist';
    return { pass: true, diffRatio: 0, message: `Baseline ${baselinePath} written (${reason}).` };
  }

  const outputDir = opts.outputDir ?? DEFAULT_OUTPUT_DIR;
  const artifacts = artifactPaths(baselinePath, outputDir);
  const ciNote = updateRequested ? ' (UPDATE_BASELINES ignored because CI is set)' : '';
  const [actual, baseline] = await Promise.all([decodeRgba(png), decodeRgba(baselinePath)]);

  if (actual.width !== baseline.width || actual.height !== baseline.height) {
    await writeFileWithDirs(artifacts.actual, png);
    return {
      pass: false,
      diffRatio: 1,
      message:
        `Size mismatch against ${baselinePath}: actual ${actual.width}x${actual.height}, ` +
        `baseline ${baseline.width}x${baseline.height}. Actual image: ${artifacts.actual}${ciNote}`,
    };
  }

  const { count, diff } = diffImages(actual, baseline, opts.channelTolerance);
  const diffRatio = count / (baseline.width * baseline.height);
  const summary = `${count} of ${baseline.width * baseline.height} pixels (ratio ${diffRatio.toFixed(6)}) differ from ${baselinePath} by more than ${opts.channelTolerance}`;

  if (diffRatio <= opts.maxDiffRatio) {
    // Stale artifacts from an earlier failing run would only mislead whoever looks in the output folder.
    await Promise.all([rm(artifacts.actual, { force: true }), rm(artifacts.diff, { force: true })]);
    return { pass: true, diffRatio, message: `${summary}; within maxDiffRatio ${opts.maxDiffRatio}.` };
  }

  const diffPng = await sharp(diff, { raw: { width: baseline.width, height: baseline.height, channels: 4 } })
    .png()
    .toBuffer();
  await Promise.all([writeFileWithDirs(artifacts.actual, png), writeFileWithDirs(artifacts.diff, diffPng)]);
  return {
    pass: false,
    diffRatio,
    message:
      `${summary}; exceeds maxDiffRatio ${opts.maxDiffRatio}. ` +
      `Actual: ${artifacts.actual} Diff: ${artifacts.diff}${ciNote}`,
  };
}
