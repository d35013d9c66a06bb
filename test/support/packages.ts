/** Template packages made from a bundled template, for tests that upload, compile or render a changed one. */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from './files.js';
import { TEMPLATES_DIR } from './repo.js';

/**
 * Copies bundled template `name` into a fresh temp folder (as `<tmp>/<folder>`), lets `change` edit
 * its manifest, and returns the folder; cleanup() removes it.
 */
export async function templateCopy(
  name: string,
  change: (manifest: Record<string, unknown>) => void,
  folder = name,
): Promise<string> {
  const dir = path.join(await tempDir('platen-pkg-'), folder);
  await cp(path.join(TEMPLATES_DIR, name), dir, { recursive: true });
  const file = path.join(dir, 'template.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(manifest);
  await writeFile(file, JSON.stringify(manifest, null, 2));
  return dir;
}

/**
 * A valid package: the bundled postcard copied to a temp folder with its id and name changed, and
 * then any further change to the manifest.
 */
export function makePackage(
  id: string,
  name: string,
  change: (manifest: Record<string, unknown>) => void = () => {},
): Promise<string> {
  return templateCopy(
    'postcard-6x4',
    (manifest) => {
      manifest.id = id;
      manifest.name = name;
      change(manifest);
    },
    id,
  );
}

/**
 * The postcard with a headline to choose (`fields.headline`, "Headline", the last choice its
 * default) printed on its front, beside its reply code: a template whose batches can split a choice.
 */
export function splitPostcard(id: string, name: string, choices: string[]): Promise<string> {
  return makePackage(id, name, (m) => {
    (m.fields as Record<string, unknown>).headline = {
      type: 'choice',
      label: 'Headline',
      required: true,
      choices,
      default: choices.at(-1),
    };
    const front = (m.pages as { elements: { name?: string; text?: string }[] }[])[0]!;
    front.elements.find((e) => e.name === 'coverHeadline')!.text = '{{fields.headline}}';
  });
}
