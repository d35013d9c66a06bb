/**
 * Bad template packages: each case breaks the small valid base package in one way and names the
 * problems, with their exact path, rule and message, that checking it must report. templates.test.ts
 * checks them against validateTemplate, templates-cli.test.ts against `platen validate`.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { ManifestInput } from '../../src/model/manifest.js';
import {
  EL,
  el,
  elements,
  makePackage,
  PLAIN_SVG,
  rewriteManifestText,
  validRecord,
} from '../support/base-package.js';
import { TempDirs } from '../support/files.js';
import { pngBytes } from '../support/images.js';
import type { Expected } from '../support/problems.js';
import { REPO_ROOT } from '../support/repo.js';

export interface TemplateCase {
  name: string;
  /** Builds the broken package; returns its folder. */
  build: () => Promise<string>;
  /** The problems, in the order they are reported; a function when a path names the folder. */
  expected: Expected[] | ((dir: string) => Expected[]);
}

/** The temp dirs the cases' packages are written to; each test file cleans them up. */
export const temp = new TempDirs();

/** The base package with `edit` applied to its manifest. */
export const pkg = (edit: (m: ManifestInput) => void = () => {}) => makePackage(temp, edit);

/** Sets properties of element `i` of page 0. */
export const setElement =
  (i: number, props: Record<string, unknown>) =>
  (m: ManifestInput): void => {
    Object.assign(elements(m)[i]!, props);
  };

const OUTSIDE_PACKAGE = 'must be a relative path inside the template package';
const WOFF2 = /WOFF2 fonts are not supported/;
const LONG_TEXT = 'Offer valid in participating states only; terms, limits and exclusions apply. '.repeat(8);

/** A valid recipient block for the base package (its zone and position vary by case). */
const ADDRESS = {
  type: 'address',
  name: 'recipient',
  x: 220,
  y: 150,
  w: 170,
  h: 60,
  size: 10,
  lines: {
    name: '{{prospect.firstName}}',
    line1: '1 Main St',
    city: 'Bangor',
    state: '{{prospect.state}}',
    zip: '04401',
  },
};
/** A valid Intelligent Mail barcode for the base package. */
const IMB = {
  type: 'imb',
  name: 'barcode',
  x: 20,
  y: 20,
  w: 220,
  h: 24,
  barcodeId: '00',
  serviceType: '300',
  mailerId: '123456',
  serial: '123456789',
  zip: '04401',
};

export const cases: TemplateCase[] = [
  // 1 ------------------------------------------------------------------------------ missing asset
  {
    name: '1 image src file absent',
    build: () => pkg(setElement(EL.logo, { src: 'images/missing.png' })),
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'missing_asset', message: 'images/missing.png' }],
  },
  {
    name: '1 svg src file absent',
    build: () => pkg(setElement(EL.mark, { src: 'art/missing.svg' })),
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'missing_asset', message: 'art/missing.svg' }],
  },
  {
    name: '1 image fallback file absent',
    build: () => pkg(setElement(EL.logo, { fallback: 'images/nope.png' })),
    expected: [{ path: `${el(EL.logo)}.fallback`, rule: 'missing_asset', message: 'images/nope.png' }],
  },
  {
    name: '1 data-chosen image src with no matching file and no fallback',
    build: () => pkg(setElement(EL.logo, { src: 'images/states/{{prospect.state}}.png' })),
    expected: [
      {
        path: `${el(EL.logo)}.src`,
        rule: 'missing_asset',
        message: 'no file in the package matches images/states/{{prospect.state}}.png',
      },
    ],
  },
  {
    name: '1 font file absent',
    build: () =>
      pkg((m) => {
        m.fonts.extra = { regular: 'fonts/Missing.ttf' };
      }),
    expected: [{ path: 'fonts.extra.regular', rule: 'missing_asset', message: 'fonts/Missing.ttf' }],
  },
  // 2 ----------------------------------------------------------------------------------- WOFF2
  {
    name: '2 a font file named .woff2 (schema)',
    build: () =>
      pkg((m) => {
        m.fonts.extra = { regular: 'fonts/Extra.woff2' };
      }),
    expected: [{ path: 'fonts.extra.regular', rule: 'custom', message: WOFF2 }],
  },
  {
    name: '2 a bold face named .WOFF2 (schema, any case)',
    build: () =>
      pkg((m) => {
        m.fonts.body = { regular: 'fonts/SourceSans3-Regular.ttf', bold: 'fonts/Bold.WOFF2' };
      }),
    expected: [{ path: 'fonts.body.bold', rule: 'custom', message: WOFF2 }],
  },
  {
    name: '2 a .ttf file whose bytes are WOFF2 (magic number)',
    build: async () => {
      const dir = await pkg((m) => {
        m.fonts.extra = { regular: 'fonts/Disguised.ttf' };
      });
      await writeFile(
        path.join(dir, 'fonts/Disguised.ttf'),
        Buffer.concat([Buffer.from('wOF2'), Buffer.alloc(256, 7)]),
      );
      return dir;
    },
    expected: [{ path: 'fonts.extra.regular', rule: 'bad_font', message: WOFF2 }],
  },
  {
    name: '2 a .ttf file that is not a font at all',
    build: async () => {
      const dir = await pkg((m) => {
        m.fonts.extra = { regular: 'fonts/Text.ttf' };
      });
      await writeFile(path.join(dir, 'fonts/Text.ttf'), 'this is not a font\n');
      return dir;
    },
    expected: [{ path: 'fonts.extra.regular', rule: 'bad_font', message: 'not a TrueType or OpenType font' }],
  },
  // 3 -------------------------------------------------------------------------- unknown helper
  {
    name: '3 unknown helper {{shout prospect.firstName}}',
    build: () => pkg(setElement(EL.greeting, { text: 'Hi {{shout prospect.firstName}}!' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'unknown helper "shout"' }],
  },
  {
    name: '3 unknown helper in a subexpression of a QR payload',
    build: () =>
      pkg((m) => {
        elements(m).push({
          type: 'qr',
          name: 'quote',
          x: 360,
          y: 200,
          w: 50,
          h: 50,
          content: 'https://harbor.example/q/{{url (shout prospect.firstName)}}',
        });
      }),
    expected: [{ path: `${el(8)}.content`, rule: 'template', message: 'unknown helper "shout"' }],
  },
  {
    name: '3 known helper with the wrong number of arguments',
    build: () => pkg(setElement(EL.greeting, { text: '{{default prospect.firstName}}' })),
    expected: [
      {
        path: `${el(EL.greeting)}.text`,
        rule: 'template',
        message: 'helper "default" takes 2 argument(s), got 1',
      },
    ],
  },
  // 4 ---------------------------------------------------------------------- undeclared variable
  {
    name: '4 undeclared variable {{prospect.middleName}}',
    build: () => pkg(setElement(EL.greeting, { text: 'Hi {{prospect.middleName}},' })),
    expected: [
      {
        path: `${el(EL.greeting)}.text`,
        rule: 'template',
        message: '"prospect.middleName" is not declared',
      },
    ],
  },
  {
    name: '4 undeclared variable inside {{#if}}',
    build: () =>
      pkg(setElement(EL.greeting, { text: 'Hi{{#if prospect.nickname}} {{prospect.nickname}}{{/if}}' })),
    expected: [
      { path: `${el(EL.greeting)}.text`, rule: 'template', message: '"prospect.nickname" is not declared' },
    ],
  },
  {
    name: '4 undeclared variable in a condition',
    build: () => pkg(setElement(EL.bundle, { when: { path: 'fields.bundleOffer', truthy: true } })),
    expected: [{ path: `${el(EL.bundle)}.when.path`, rule: 'undeclared', message: 'not declared' }],
  },
  {
    name: '4 undeclared image input',
    build: () => pkg(setElement(EL.logo, { src: undefined, input: 'rep.photo' })),
    expected: [{ path: `${el(EL.logo)}.input`, rule: 'undeclared', message: 'not a declared image input' }],
  },
  {
    name: '4 text element bound to an unknown field (schema)',
    build: () => pkg(setElement(EL.headline, { field: 'subhead' })),
    expected: [{ path: `${el(EL.headline)}.field`, rule: 'custom', message: 'unknown field "subhead"' }],
  },
  // 5 ------------------------------------------------------------------- prototype keys as names
  ...(
    [
      ['fields', '__proto__'],
      ['prospect', 'constructor'],
      ['rep', 'prototype'],
    ] as const
  ).map(([scope, key]): TemplateCase => ({
    name: `5 ${key} as a ${scope} name`,
    build: async () => {
      const dir = await pkg((m) => {
        m[scope] = { ...m[scope], RESERVED_KEY: { type: 'text' } };
      });
      // Written as JSON text: in a JS object literal, __proto__ would set the prototype instead.
      await rewriteManifestText(dir, (t) => t.replace('"RESERVED_KEY"', JSON.stringify(key)));
      return dir;
    },
    // zod reports a bad record key as invalid_key ("Invalid key in record"); the rule of a rejected
    // __proto__ is left open, as long as it is rejected at its path with a reason.
    expected: [
      {
        path: `${scope}.${key}`,
        rule: key === '__proto__' ? (expect.any(String) as string) : 'invalid_key',
        message: /Invalid key|reserved name|identifier/,
      },
    ],
  })),
  {
    name: '5 __proto__ as a key of a sample record',
    build: async () => {
      const dir = await pkg((m) => {
        m.samples![0]!.record.fields = { RESERVED_KEY: { headline: 'Pwned' } };
      });
      await rewriteManifestText(dir, (t) => t.replace('"RESERVED_KEY"', '"__proto__"'));
      return dir;
    },
    expected: [{ path: 'samples[0].record.fields.__proto__', rule: 'custom', message: 'reserved name' }],
  },
  {
    name: '5 __proto__ as a key of an element',
    build: async () => {
      const dir = await pkg(setElement(EL.disclaimer, { RESERVED_KEY: { text: 'Pwned' } }));
      await rewriteManifestText(dir, (t) => t.replace('"RESERVED_KEY"', '"__proto__"'));
      return dir;
    },
    expected: [{ path: `${el(EL.disclaimer)}.__proto__`, rule: 'custom', message: 'reserved name' }],
  },
  {
    name: '5 constructor as an element name',
    build: () => pkg(setElement(EL.disclaimer, { name: 'constructor' })),
    expected: [{ path: `${el(EL.disclaimer)}.name`, rule: 'custom', message: 'reserved name' }],
  },
  // 6 ------------------------------------------------------------------------------- geometry
  {
    name: '6 element below the page and its bleed',
    build: () => pkg(setElement(EL.disclaimer, { y: 290 })),
    expected: [{ path: el(EL.disclaimer), rule: 'outside_page', message: '"disclaimer" extends outside' }],
  },
  {
    name: '6 element past the right bleed edge',
    build: () => pkg(setElement(EL.mark, { x: 420 })),
    expected: [{ path: el(EL.mark), rule: 'outside_page', message: '"mark" extends outside' }],
  },
  {
    name: '6 background reaching 1pt beyond the bleed',
    build: () => pkg(setElement(EL.background, { x: -10 })),
    expected: [{ path: el(EL.background), rule: 'outside_page', message: '"background" extends outside' }],
  },
  // 7 --------------------------------------------------------------------------- template.json
  {
    name: '7 template.json is not valid JSON',
    build: async () => {
      const dir = await pkg();
      await rewriteManifestText(dir, (t) => t.replace('"id":', '"id" ').slice(0, -5));
      return dir;
    },
    expected: [{ path: 'template.json', rule: 'json', message: 'not valid JSON' }],
  },
  {
    name: '7 template.json is missing',
    build: async () => {
      const dir = path.join(await temp.make(), 'pkg');
      await mkdir(dir);
      return dir;
    },
    expected: [{ path: 'template.json', rule: 'not_found', message: 'missing template.json' }],
  },
  {
    name: '7 the template folder is missing',
    build: async () => path.join(await temp.make(), 'no-such-template'),
    expected: (dir) => [{ path: dir, rule: 'not_found', message: 'template folder not found' }],
  },
  // 8 --------------------------------------------------------------------------- samples fail
  {
    name: '8 a sample missing a required prospect value',
    build: () =>
      pkg((m) => {
        delete m.samples![0]!.record.prospect!.firstName;
      }),
    expected: [{ path: 'samples[0].record.prospect.firstName', rule: 'invalid_type', message: 'required' }],
  },
  {
    name: '8 a second sample with a malformed email and an unknown field',
    build: () =>
      pkg((m) => {
        const record = validRecord();
        record.rep.email = 'mateo-at-harbor';
        record.fields.disclaimer = 'No terms apply';
        m.samples!.push({ name: 'bad', record });
      }),
    expected: [
      { path: 'samples[1].record.rep.email', rule: 'invalid_format', message: 'not an email address' },
      { path: 'samples[1].record.fields.disclaimer', rule: 'unknown_key', message: 'locked content' },
    ],
  },
  {
    name: '8 a template with no samples',
    build: () =>
      pkg((m) => {
        m.samples = [];
      }),
    expected: [{ path: 'samples', rule: 'no_samples', message: 'add at least one sample' }],
  },
  // 9 ------------------------------------------------------------------------- sample overflow
  {
    name: '9 a sample whose field text overflows its box at minSize',
    build: () =>
      pkg((m) => {
        Object.assign(elements(m)[EL.headline]!, { h: 14, size: 12, minSize: 10 });
        m.samples![0]!.record.fields!.headline =
          'Storm season is a good time to check your coverage. '.repeat(2);
      }),
    expected: [
      {
        path: 'samples[0].record.fields.headline',
        rule: 'overflow',
        message: /too long for its box at 10 pt/,
      },
    ],
  },
  // 10 ---------------------------------------------------------------------- locked overflow
  {
    name: '10 locked text that overflows its box',
    build: () => pkg(setElement(EL.disclaimer, { text: LONG_TEXT })),
    expected: [
      { path: el(EL.disclaimer), rule: 'overflow', message: /locked text "disclaimer" does not fit its box/ },
    ],
  },
  {
    name: '10 locked text with a character no font has',
    build: () => pkg(setElement(EL.disclaimer, { text: 'Offer valid 🦀 in participating states.' })),
    expected: [{ path: el(EL.disclaimer), rule: 'missing_glyph', message: 'U+1F980' }],
  },
  // 11 ------------------------------------------------------------------------- bad images/svg
  {
    name: '11 a .png asset that holds text',
    build: async () => {
      const dir = await pkg();
      await writeFile(path.join(dir, 'images/logo.png'), 'this is not a PNG, it is a note\n');
      return dir;
    },
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'bad_image', message: /^images\/logo\.png: / }],
  },
  {
    name: '11 a .png asset that is a WebP image',
    build: async () => {
      const dir = await pkg();
      const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
        .webp()
        .toBuffer();
      await writeFile(path.join(dir, 'images/logo.png'), webp);
      return dir;
    },
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'bad_image', message: 'unsupported image format webp' }],
  },
  {
    name: '11 an image element pointing at an SVG',
    build: () => pkg(setElement(EL.logo, { src: 'art/mark.svg' })),
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'bad_image', message: 'use JPEG or PNG' }],
  },
  {
    name: '11 an SVG that contains <text>',
    build: async () => {
      const dir = await pkg();
      await writeFile(
        path.join(dir, 'art/mark.svg'),
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text x="1" y="8">HM</text></svg>\n',
      );
      return dir;
    },
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'svg_text', message: 'convert it to outlines' }],
  },
  {
    name: '11 an SVG with an upper-case <TEXT> split over lines',
    build: async () => {
      const dir = await pkg();
      await writeFile(
        path.join(dir, 'art/mark.svg'),
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n<TEXT\n x="1" y="8">HM</TEXT></svg>\n',
      );
      return dir;
    },
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'svg_text', message: 'convert it to outlines' }],
  },
  // 12 --------------------------------------------------------------------- escaping the package
  {
    name: '12 image fallback ../outside.png (schema)',
    build: () => pkg(setElement(EL.logo, { fallback: '../outside.png' })),
    expected: [{ path: `${el(EL.logo)}.fallback`, rule: 'custom', message: OUTSIDE_PACKAGE }],
  },
  {
    name: '12 svg src ../outside.svg (schema)',
    build: () => pkg(setElement(EL.mark, { src: '../outside.svg' })),
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'custom', message: OUTSIDE_PACKAGE }],
  },
  {
    name: '12 absolute svg src (schema)',
    build: () => pkg(setElement(EL.mark, { src: '/etc/outside.svg' })),
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'custom', message: OUTSIDE_PACKAGE }],
  },
  {
    name: '12 font ../fonts/Outside.ttf (schema)',
    build: () =>
      pkg((m) => {
        m.fonts.extra = { regular: 'fonts/../../Outside.ttf' };
      }),
    expected: [{ path: 'fonts.extra.regular', rule: 'custom', message: OUTSIDE_PACKAGE }],
  },
  {
    name: '12 image src ../outside.png (schema), though the file exists beside the package',
    build: async () => {
      const dir = await pkg(setElement(EL.logo, { src: '../outside.png' }));
      await writeFile(path.join(dir, '../outside.png'), await pngBytes());
      return dir;
    },
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'custom', message: OUTSIDE_PACKAGE }],
  },
  {
    name: '12 image symlink inside the package pointing outside: missing, never read',
    build: async () => {
      const dir = await pkg(setElement(EL.logo, { src: 'images/link.png' }));
      await writeFile(path.join(dir, '../outside.png'), await pngBytes());
      await symlink('../../outside.png', path.join(dir, 'images/link.png'));
      return dir;
    },
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'missing_asset', message: 'images/link.png' }],
  },
  {
    name: '12 symlinked folder inside the package pointing outside: missing, never read',
    build: async () => {
      const dir = await pkg(setElement(EL.logo, { src: 'images/shared/outside.png' }));
      await mkdir(path.join(dir, '../shared'));
      await writeFile(path.join(dir, '../shared/outside.png'), await pngBytes());
      await symlink('../../shared', path.join(dir, 'images/shared'));
      return dir;
    },
    expected: [{ path: `${el(EL.logo)}.src`, rule: 'missing_asset', message: 'images/shared/outside.png' }],
  },
  {
    name: '12 data-chosen image whose only candidate is a symlink outside',
    build: async () => {
      const dir = await pkg(setElement(EL.logo, { src: 'images/states/{{prospect.state}}.png' }));
      await mkdir(path.join(dir, 'images/states'));
      await writeFile(path.join(dir, '../ME.png'), await pngBytes());
      await symlink('../../../ME.png', path.join(dir, 'images/states/ME.png'));
      return dir;
    },
    expected: [
      { path: `${el(EL.logo)}.src`, rule: 'missing_asset', message: 'no file in the package matches' },
    ],
  },
  {
    name: '12 svg symlink pointing outside: missing, never read',
    build: async () => {
      const dir = await pkg(setElement(EL.mark, { src: 'art/link.svg' }));
      await writeFile(path.join(dir, '../outside.svg'), PLAIN_SVG);
      await symlink('../../outside.svg', path.join(dir, 'art/link.svg'));
      return dir;
    },
    expected: [{ path: `${el(EL.mark)}.src`, rule: 'missing_asset', message: 'art/link.svg' }],
  },
  {
    name: '12 font symlink pointing outside: missing, never read',
    build: async () => {
      const dir = await pkg((m) => {
        m.fonts.extra = { regular: 'fonts/Link.ttf' };
      });
      await symlink(
        path.join(REPO_ROOT, 'templates/postcard-6x4/fonts/DejaVuSans.ttf'),
        path.join(dir, 'fonts/Link.ttf'),
      );
      return dir;
    },
    expected: [{ path: 'fonts.extra.regular', rule: 'missing_asset', message: 'fonts/Link.ttf' }],
  },
  // 13 -------------------------------------------------------------- forbidden Handlebars forms
  {
    name: '13 a partial {{> x}}',
    build: () => pkg(setElement(EL.greeting, { text: 'Hi {{> signature}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'partials are not allowed' }],
  },
  {
    name: '13 a partial block {{#> x}}…{{/x}}',
    build: () => pkg(setElement(EL.greeting, { text: '{{#> layout}}Hi{{/layout}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: /partial.* not allowed/ }],
  },
  {
    name: '13 {{#each}}',
    build: () => pkg(setElement(EL.greeting, { text: '{{#each prospect.firstName}}x{{/each}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'unknown block helper "each"' }],
  },
  {
    name: '13 {{#with}}',
    build: () => pkg(setElement(EL.greeting, { text: '{{#with prospect}}{{firstName}}{{/with}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'unknown block helper "with"' }],
  },
  {
    name: '13 {{lookup}}',
    build: () => pkg(setElement(EL.greeting, { text: '{{lookup prospect "firstName"}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'unknown helper "lookup"' }],
  },
  {
    name: '13 an inline partial decorator',
    build: () => pkg(setElement(EL.greeting, { text: '{{#*inline "x"}}Hi{{/inline}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'not allowed' }],
  },
  {
    name: '13 @root and ../ paths',
    build: () => pkg(setElement(EL.greeting, { text: '{{@root.prospect.firstName}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'is not a record path' }],
  },
  {
    name: '13 hash arguments',
    build: () => pkg(setElement(EL.greeting, { text: '{{upper prospect.firstName locale="tr"}}' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'hash arguments' }],
  },
  {
    name: '13 a Handlebars syntax error',
    build: () => pkg(setElement(EL.greeting, { text: 'Hi {{prospect.firstName' })),
    expected: [{ path: `${el(EL.greeting)}.text`, rule: 'template', message: 'template syntax' }],
  },
  {
    name: '13 several compile problems in one template, all reported together',
    build: () =>
      pkg((m) => {
        m.fonts.fallback = { regular: 'fonts/Gone.ttf' };
        const els = elements(m);
        Object.assign(els[EL.logo]!, { src: 'images/gone.png' });
        Object.assign(els[EL.mark]!, { y: 280 });
        Object.assign(els[EL.greeting]!, { text: 'Hi {{shout prospect.firstName}}' });
        Object.assign(els[EL.disclaimer]!, { text: 'See {{> terms}}' });
        Object.assign(els[EL.contact]!, { text: '{{rep.fax}}' });
        Object.assign(els[EL.bundle]!, { color: 'sea' });
      }),
    expected: [
      { path: 'fonts.fallback.regular', rule: 'missing_asset', message: 'fonts/Gone.ttf' },
      { path: `${el(EL.logo)}.src`, rule: 'missing_asset', message: 'images/gone.png' },
      { path: el(EL.mark), rule: 'outside_page', message: '"mark"' },
      { path: `${el(EL.greeting)}.text`, rule: 'template', message: 'unknown helper "shout"' },
      { path: `${el(EL.disclaimer)}.text`, rule: 'template', message: 'partials are not allowed' },
      { path: `${el(EL.contact)}.text`, rule: 'template', message: '"rep.fax" is not declared' },
      { path: `${el(EL.bundle)}.color`, rule: 'unknown_color', message: 'unknown colour "sea"' },
    ],
  },
  {
    name: '13 several schema problems in one template, all reported together',
    build: () =>
      pkg((m) => {
        m.id = 'Not A Slug';
        m.fonts.extra = { regular: 'fonts/Extra.woff2' };
        m.colors!.ink = 'navy';
        Object.assign(elements(m)[EL.mark]!, { src: '../outside.svg' });
        Object.assign(elements(m)[EL.headline]!, { minSize: 40 });
      }),
    expected: [
      { path: 'id', rule: 'invalid_format', message: 'expected a lowercase slug' },
      { path: 'fonts.extra.regular', rule: 'custom', message: WOFF2 },
      { path: 'colors.ink', rule: 'invalid_format', message: 'expected #RRGGBB' },
      { path: `${el(EL.mark)}.src`, rule: 'custom', message: OUTSIDE_PACKAGE },
      { path: `${el(EL.headline)}.minSize`, rule: 'custom', message: 'minSize is larger than size' },
    ],
  },
  // 14 ------------------------------------------------------------------------ print and mail fields
  {
    name: '14 a tint on a colour that is not a spot ink',
    build: () => pkg(setElement(EL.background, { fill: { name: 'ink', tint: 40 } })),
    expected: [
      { path: `${el(EL.background)}.fill.tint`, rule: 'not_spot', message: '"ink" is not a spot colour' },
    ],
  },
  {
    name: '14 a tint of 0 (schema)',
    build: () =>
      pkg((m) => {
        m.colors!.brand = { spot: 'PANTONE 2597 C', cmyk: [85, 100, 0, 0] };
        Object.assign(elements(m)[EL.background]!, { fill: { name: 'brand', tint: 0 } });
      }),
    expected: [
      { path: `${el(EL.background)}.fill.tint`, rule: 'too_small', message: 'expected number to be >0' },
    ],
  },
  {
    name: '14 a spot ink named like a process ink (schema)',
    build: () =>
      pkg((m) => {
        m.colors!.brand = { spot: 'Cyan', cmyk: [100, 0, 0, 0] };
      }),
    expected: [{ path: 'colors.brand', rule: 'invalid_union', message: '' }],
  },
  {
    name: '14 an unknown output colour space (schema)',
    build: () => pkg((m) => void (m.output = { colorSpace: 'rgbk' as 'rgb' })),
    expected: [{ path: 'output.colorSpace', rule: 'invalid_value', message: '' }],
  },
  {
    name: '14 marks that are not a boolean (schema)',
    build: () => pkg((m) => void (m.output = { marks: 'yes' as unknown as boolean })),
    expected: [{ path: 'output.marks', rule: 'invalid_type', message: '' }],
  },
  {
    name: '14 an address block outside its zone',
    build: () =>
      pkg((m) => {
        elements(m).push({ ...ADDRESS, x: 20, zone: 'postcard-6x4' });
      }),
    expected: [{ path: el(8), rule: 'outside_zone', message: 'not inside the postcard-6x4 address zone' }],
  },
  {
    name: '14 an address zone that does not exist (schema)',
    build: () => pkg((m) => void elements(m).push({ ...ADDRESS, zone: 'window-9' })),
    expected: [{ path: `${el(8)}.zone`, rule: 'invalid_value', message: '' }],
  },
  {
    name: '14 an address without a city (schema)',
    build: () =>
      pkg((m) => void elements(m).push({ ...ADDRESS, lines: { ...ADDRESS.lines, city: undefined } })),
    expected: [{ path: `${el(8)}.lines.city`, rule: 'invalid_type', message: '' }],
  },
  {
    name: '14 an address line reading an undeclared input',
    build: () =>
      pkg(
        (m) => void elements(m).push({ ...ADDRESS, lines: { ...ADDRESS.lines, line2: '{{prospect.unit}}' } }),
      ),
    expected: [
      { path: `${el(8)}.lines.line2`, rule: 'template', message: '"prospect.unit" is not declared' },
    ],
  },
  {
    name: '14 an Intelligent Mail barcode in a box too small for it',
    build: () => pkg((m) => void elements(m).push({ ...IMB, w: 150 })),
    expected: [{ path: el(8), rule: 'too_small', message: 'needs a box of at least' }],
  },
  {
    name: '14 a sample whose barcode serial is too short',
    build: () => pkg((m) => void elements(m).push({ ...IMB, serial: '1234' })),
    expected: [{ path: 'samples[0].elements.barcode', rule: 'imb', message: 'serial "1234": 9 digits' }],
  },
  {
    name: '14 a Figure without alt text (schema)',
    build: () => pkg(setElement(EL.logo, { role: 'Figure' })),
    expected: [{ path: `${el(EL.logo)}.alt`, rule: 'custom', message: 'a Figure needs alt text' }],
  },
  {
    name: '14 an unknown structure role (schema)',
    build: () => pkg(setElement(EL.headline, { role: 'Heading' })),
    expected: [{ path: `${el(EL.headline)}.role`, rule: 'invalid_value', message: '' }],
  },
  {
    name: '14 a language that is not a language tag (schema)',
    build: () => pkg((m) => void (m.lang = 'English')),
    expected: [{ path: 'lang', rule: 'invalid_format', message: 'expected a language tag such as en-US' }],
  },
];
