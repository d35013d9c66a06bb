/**
 * The bad-input tests' base package: small and valid, generated in a temp dir (two fonts copied from
 * the bundled postcard, a PNG made with sharp, a tiny SVG), which each test then breaks in one
 * precise way.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestInput } from '../../src/model/manifest.js';
import type { TempDirs } from './files.js';
import { pngBytes } from './images.js';
import { REPO_ROOT } from './repo.js';

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

export const PLAIN_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#1F3A5F"/></svg>\n';

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
