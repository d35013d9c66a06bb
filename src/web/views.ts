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

/** Markup a view writes as it is, not escaped: made by `html` (and `when`, in pages.ts, with it). */
export type Html = Handlebars.SafeString;

/**
 * HTML from a template literal: the text escaped, what is HTML already (`when`'s times) kept, for
 * values a view shows in one place, e.g. html`${who}, ${when(at)}`.
 */
export function html(strings: TemplateStringsArray, ...values: (string | number | Html)[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out +=
      (value instanceof Handlebars.SafeString ? value.toHTML() : Handlebars.escapeExpression(String(value))) +
      strings[i + 1]!;
  });
  return new Handlebars.SafeString(out);
}

export function loadViews(): (name: string, context: object) => string {
  const hbs = Handlebars.create();
  const assets = assetVersions();
  hbs.registerHelper('asset', (file: string) => {
    const version = assets.get(file);
    if (!version) throw new Error(`no static file ${file}`);
    return new hbs.SafeString(`/static/${file}?v=${version}`);
  });
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  const icons = new Set(
    [...readFileSync(join(VIEWS_DIR, '_icons.hbs'), 'utf8').matchAll(/<symbol id="i-([a-z-]+)"/g)].map(
      (m) => m[1]!,
    ),
  );
  // {{icon 'download'}}: one of the sprite's icons (_icons.hbs, in every page), hidden from screen readers.
  hbs.registerHelper('icon', (name: string) => {
    if (!icons.has(name)) throw new Error(`no icon ${name} in _icons.hbs`);
    return new hbs.SafeString(
      `<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-${name}"></use></svg>`,
    );
  });
  // {{#if (current '/pieces')}}: whether the page shown is that section (the navigation marks it).
  hbs.registerHelper('current', function (this: unknown, href: string, options: Handlebars.HelperOptions) {
    const path = (options.data as { root: { here?: string } }).root.here ?? '';
    return path === href || path.startsWith(`${href}/`);
  });
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
