import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

/**
 * The pages' views: `.hbs` files in `web/views/` (beside `templates/` in the package, so the same
 * path works from `src/` under tests and from `dist/` after the build), compiled once at start-up
 * in a Handlebars environment of their own: HTML escaping on, nothing shared with the PDF one.
 */
export const WEB_DIR = fileURLToPath(new URL('../../web', import.meta.url));
const VIEWS_DIR = join(WEB_DIR, 'views');
export const PUBLIC_DIR = join(WEB_DIR, 'public');
/** The browser code bundled at build time (scripts/build-client.mjs), served beside web/public. */
export const BUNDLE_DIR = fileURLToPath(new URL('../../dist/public', import.meta.url));

export type View = (context: object) => string;

export function loadViews(): (name: string, context: object) => string {
  const hbs = Handlebars.create();
  const assets = assetVersions();
  hbs.registerHelper('asset', (file: string) => {
    const version = assets.get(file);
    if (!version) throw new Error(`no static file ${file}`);
    return new hbs.SafeString(`/static/${file}?v=${version}`);
  });
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  const views = new Map<string, View>();
  for (const file of readdirSync(VIEWS_DIR)) {
    if (!file.endsWith('.hbs')) continue;
    const source = readFileSync(join(VIEWS_DIR, file), 'utf8');
    const name = basename(file, '.hbs');
    // Partials are named with a leading underscore: `_field.hbs` is `{{> field}}`.
    if (name.startsWith('_')) hbs.registerPartial(name.slice(1), source);
    else views.set(name, hbs.compile(source, { strict: false, noEscape: false, knownHelpersOnly: false }));
  }
  const layout = views.get('layout');
  if (!layout) throw new Error(`no layout.hbs in ${VIEWS_DIR}`);
  return (name, context) => {
    const view = views.get(name);
    if (!view) throw new Error(`no view ${name}`);
    return layout({ ...context, body: new hbs.SafeString(view(context)) });
  };
}

/** A short content hash per static file: URLs change when files do, so they can be cached for long. */
function assetVersions(): Map<string, string> {
  const versions = new Map<string, string>();
  for (const dir of [PUBLIC_DIR, BUNDLE_DIR]) {
    // Before a build there is no bundle: only the pages that use it need one.
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      const hash = createHash('sha256').update(readFileSync(join(dir, file)));
      versions.set(file, hash.digest('hex').slice(0, 12));
    }
  }
  return versions;
}
