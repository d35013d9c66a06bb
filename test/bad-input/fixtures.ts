/**
 * Builders for the bad-input tests: a small, valid template package generated in a temp dir (two
 * fonts copied from the bundled postcard, a PNG made with sharp, a tiny SVG), which each test then
 * breaks in one precise way; plus a runner for the built CLI (`node dist/cli.js`).
 */
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as fontkit from 'fontkit';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { Problem } from '../../src/errors.js';
import type { ManifestInput } from '../../src/model/manifest.js';
import { CLI, REPO_ROOT, runNode } from '../support/repo.js';

export { CLI, REPO_ROOT, runCli } from '../support/repo.js';
export const BROCHURE_DIR = path.join(REPO_ROOT, 'templates/insurance-brochure');
const POSTCARD_FONTS = path.join(REPO_ROOT, 'templates/postcard-6x4/fonts');

/** Indices of the base package's elements on page 0, so tests name exact problem paths. */
export const EL = {
  background: 0,
  logo: 1,
  mark: 2,
  greeting: 3,
  headline: 4,
  disclaimer: 5,
  contact: 6,
  bundle: 7,
} as const;

/** `pages[0].elements[i]`, the path compile gives element i of the first page. */
export const el = (i: number): string => `pages[0].elements[${i}]`;

export const CHOICES = ['basic', 'plus'] as const;

/** A record the base package accepts and renders. Fresh object on every call. */
export function validRecord(): {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
} {
  return {
    rep: { name: 'Mateo Álvarez', email: 'mateo@harbor.example', phone: '(207) 555-0142' },
    prospect: { firstName: 'Chloé', state: 'ME' },
    fields: { headline: 'Coverage that fits your life', plan: 'plus', showBundle: true },
  };
}

/** The base manifest: valid, one page of every element kind the cases need, one valid sample. */
export function baseManifest(): ManifestInput {
  return {
    id: 'bad-input-base',
    name: 'Bad-input base package',
    version: 1,
    page: { size: 'postcard-6x4', bleed: 9 },
    fonts: {
      body: { regular: 'fonts/SourceSans3-Regular.ttf' },
      fallback: { regular: 'fonts/DejaVuSans.ttf' },
    },
    fallbackFonts: ['fallback'],
    defaultFont: 'body',
    colors: { ink: '#1E2328' },
    rep: {
      name: { type: 'text', required: true, maxLength: 40 },
      email: { type: 'email', required: true, maxLength: 60 },
      phone: { type: 'phone', required: true, maxLength: 24 },
      website: { type: 'url' },
    },
    prospect: {
      firstName: { type: 'text', required: true, maxLength: 30 },
      state: { type: 'text', maxLength: 2, pattern: '^[A-Z]{2}$' },
    },
    fields: {
      headline: { type: 'text', maxLength: 120, default: 'Coverage that fits' },
      note: { type: 'multiline', maxLength: 400 },
      plan: { type: 'choice', choices: [...CHOICES], default: 'basic' },
      showBundle: { type: 'boolean', default: false },
    },
    pages: [
      {
        name: 'front',
        elements: [
          { type: 'rect', name: 'background', x: -9, y: -9, w: 450, h: 306, bleeds: true, fill: '#F4EEE3' },
          { type: 'image', name: 'logo', x: 20, y: 20, w: 60, h: 40, src: 'images/logo.png' },
          { type: 'svg', name: 'mark', x: 372, y: 20, w: 40, h: 40, src: 'art/mark.svg' },
          {
            type: 'text',
            name: 'greeting',
            x: 20,
            y: 80,
            w: 392,
            h: 30,
            text: 'Hi {{prospect.firstName}},',
            size: 18,
            minSize: 10,
            color: 'ink',
          },
          {
            type: 'text',
            name: 'headline',
            field: 'headline',
            x: 20,
            y: 120,
            w: 392,
            h: 60,
            size: 16,
            minSize: 10,
          },
          {
            type: 'text',
            name: 'disclaimer',
            x: 20,
            y: 250,
            w: 392,
            h: 20,
            text: 'Offer valid in participating states.',
            size: 8,
          },
          {
            type: 'text',
            name: 'contact',
            x: 20,
            y: 200,
            w: 392,
            h: 40,
            text: '{{rep.name}} · {{rep.email}} · {{rep.phone}}',
            size: 10,
            minSize: 7,
          },
          {
            type: 'text',
            name: 'bundle',
            when: { path: 'fields.showBundle', truthy: true },
            x: 300,
            y: 250,
            w: 112,
            h: 20,
            text: 'Ask about bundling',
            size: 8,
          },
        ],
      },
    ],
    samples: [{ name: 'valid sample', record: validRecord() }],
  };
}

/** A manifest's first page's elements, typed loosely enough for tests to break them. */
export function elements(m: ManifestInput): Record<string, unknown>[] {
  const page = m.pages[0];
  if (!page) throw new Error('base manifest has no page');
  return page.elements as unknown as Record<string, unknown>[];
}

export async function pngBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#2A7F8E' } })
    .png()
    .toBuffer();
}

/** A noisy photo-like JPEG (noise does not compress: its data runs to the end of the file). */
export async function jpegBytes(width = 256, height = 256): Promise<Buffer> {
  const noise = { type: 'gaussian', mean: 128, sigma: 40 } as const;
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise } })
    .jpeg()
    .toBuffer();
}

/** The first `fraction` of a file: what an interrupted copy or upload leaves. */
export const truncated = (bytes: Buffer, fraction: number): Buffer =>
  bytes.subarray(0, Math.floor(bytes.length * fraction));

/** Where a TrueType font keeps the outline of the glyph of `char`, in the file. */
function glyphData(ttf: Buffer, char: string): { start: number; end: number; id: number } {
  const font = fontkit.create(ttf) as unknown as {
    glyphForCodePoint(c: number): { id: number };
    directory: { tables: Record<string, { offset: number }> };
    loca: { offsets: number[] };
  };
  const { id } = font.glyphForCodePoint(char.codePointAt(0)!);
  const glyf = font.directory.tables.glyf!.offset;
  return { start: glyf + font.loca.offsets[id]!, end: glyf + font.loca.offsets[id + 1]!, id };
}

/**
 * A TrueType font whose glyph for `char` is a composite of itself: every table in place, so it
 * parses, but drawing (or measuring the outline of) that character recurses without end.
 */
export function fontWithSelfReferencingGlyph(ttf: Buffer, char: string): Buffer {
  const out = Buffer.from(ttf);
  const { start, end, id } = glyphData(out, char);
  const composite = Buffer.alloc(18);
  composite.writeInt16BE(-1, 0); // numberOfContours: a composite glyph
  composite.writeInt16BE(500, 6); // xMax (the bounding box is otherwise 0)
  composite.writeInt16BE(700, 8); // yMax
  composite.writeUInt16BE(0x0001, 10); // ARG_1_AND_2_ARE_WORDS, no more components
  composite.writeUInt16BE(id, 12); // the component: this very glyph
  if (end - start < composite.length) throw new Error(`the glyph of ${char} is too small to rewrite`);
  composite.copy(out, start);
  return out;
}

/** A TrueType font whose glyph locations (loca) run backwards at the glyph of `char`. */
export function fontWithLocaOutOfOrder(ttf: Buffer, char: string): Buffer {
  const out = Buffer.from(ttf);
  const font = fontkit.create(out) as unknown as {
    directory: { tables: Record<string, { offset: number }> };
    head: { indexToLocFormat: number };
  };
  const { id } = glyphData(out, char);
  const loca = font.directory.tables.loca!.offset;
  // Long offsets are bytes, short ones halves: either way 0 is before every other glyph.
  if (font.head.indexToLocFormat === 1) out.writeUInt32BE(0, loca + (id + 1) * 4);
  else out.writeUInt16BE(0, loca + (id + 1) * 2);
  return out;
}

export const PLAIN_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#1F3A5F"/></svg>\n';

/** Temp dirs made by a test file; `cleanup` (in afterEach/afterAll) removes them. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'platen-bad-'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/**
 * Writes the base package into a new temp dir, after `edit` has changed its manifest. Returns the
 * package folder (`<tmp>/pkg`); its parent is free for files that must sit outside the package.
 */
export async function makePackage(
  temp: TempDirs,
  edit: (m: ManifestInput) => void = () => {},
): Promise<string> {
  const dir = path.join(await temp.make(), 'pkg');
  await mkdir(path.join(dir, 'fonts'), { recursive: true });
  await mkdir(path.join(dir, 'images'));
  await mkdir(path.join(dir, 'art'));
  await copyFile(
    path.join(POSTCARD_FONTS, 'SourceSans3-Regular.ttf'),
    path.join(dir, 'fonts/SourceSans3-Regular.ttf'),
  );
  await copyFile(path.join(POSTCARD_FONTS, 'DejaVuSans.ttf'), path.join(dir, 'fonts/DejaVuSans.ttf'));
  // 256 px in a 60 × 40 pt box: 460 ppi, clear of preflight's resolution checks.
  await writeFile(path.join(dir, 'images/logo.png'), await pngBytes(256, 256));
  await writeFile(path.join(dir, 'art/mark.svg'), PLAIN_SVG);
  const manifest = baseManifest();
  edit(manifest);
  await writeManifest(dir, manifest);
  return dir;
}

/** Rewrites template.json as text: for JSON a JS object cannot express (`__proto__` keys, syntax errors). */
export async function rewriteManifestText(dir: string, edit: (text: string) => string): Promise<void> {
  const file = path.join(dir, 'template.json');
  await writeFile(file, edit(await readFile(file, 'utf8')));
}

export async function writeManifest(dir: string, manifest: unknown): Promise<void> {
  await writeFile(path.join(dir, 'template.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** One expected problem: its exact path and rule, and a fragment of (or a pattern for) its message. */
export interface Expected {
  path: string;
  rule: string;
  message: string | RegExp;
}

function expectMessage(message: string, expected: string | RegExp): void {
  if (typeof expected === 'string') expect(message).toContain(expected);
  else expect(message).toMatch(expected);
}

/** Exactly these problems, in this order: paths and rules equal, messages containing the fragment. */
export function expectProblems(problems: readonly Problem[], expected: readonly Expected[]): void {
  expect(pathsAndRules(problems)).toEqual(expected.map(({ path: p, rule }) => ({ path: p, rule })));
  expected.forEach((e, i) => expectMessage(problems[i]!.message, e.message));
}

/** CLI output holding exactly one `path: message` line per expected problem, in order. */
export function expectProblemLines(output: string, expected: readonly Expected[]): void {
  const out = lines(output);
  expect(out).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    const line = out[i]!;
    const prefix = `${e.path || '(root)'}: `;
    expect(line.startsWith(prefix), `line ${i}: ${line.slice(0, 200)}`).toBe(true);
    expectMessage(line.slice(prefix.length), e.message);
  });
}

/** Fails early, with the fix, when the CLI has not been built. */
export async function requireBuiltCli(): Promise<void> {
  await access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  });
}

/** Problems reduced to what the tests compare: path and rule, in order. */
export const pathsAndRules = (problems: readonly Problem[]): { path: string; rule: string }[] =>
  problems.map(({ path: p, rule }) => ({ path: p, rule }));

/**
 * Runs an ES module snippet in a fresh Node process (for cases that could corrupt the process that
 * runs them, such as prototype pollution) and returns its stdout parsed as JSON.
 */
export async function runModule(source: string): Promise<unknown> {
  const result = await runNode(['--input-type=module', '-e', source], REPO_ROOT);
  if (result.code !== 0) throw new Error(`child exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown;
}

/** Non-empty output lines. */
export const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** File names in `dir` (not recursive), sorted. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
