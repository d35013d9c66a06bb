import { describe, expect, it } from 'vitest';
import { pageGeometry, toColor } from '../../src/template/compile.js';
import type { ManifestInput } from '../../src/model/manifest.js';
import { manifestSchema } from '../../src/template/manifest.js';
import { minimalManifest } from '../support/records.js';

type Path = PropertyKey[];

/** Parses and returns the issues' paths and messages; fails the test when the manifest is accepted. */
function issuesOf(input: unknown): { path: Path; message: string; code: string }[] {
  const result = manifestSchema.safeParse(input);
  expect(result.success, 'manifest should be rejected').toBe(false);
  return (result.error?.issues ?? []).map((i) => ({ path: i.path, message: i.message, code: i.code }));
}

function pathsOf(input: unknown): Path[] {
  return issuesOf(input).map((i) => i.path);
}

/** The minimal manifest with its single page's elements replaced. */
function withElements(elements: unknown[], extra: Partial<ManifestInput> = {}): unknown {
  return { ...minimalManifest(), ...extra, pages: [{ name: 'front', elements }] };
}

const text = (name: string, more: Record<string, unknown> = {}) => ({
  type: 'text',
  name,
  x: 0,
  y: 0,
  w: 100,
  h: 20,
  size: 12,
  text: 'Hello',
  ...more,
});

describe('manifestSchema: a minimal manifest', () => {
  it('is accepted and gets its defaults', () => {
    const m = manifestSchema.parse(minimalManifest());
    expect(m.id).toBe('demo');
    expect(m.version).toBe(1);
    expect(m.page).toEqual({ size: 'letter', bleed: 0 });
    expect(m.fallbackFonts).toEqual([]);
    expect(m.colors).toEqual({});
    expect(m.rep).toEqual({});
    expect(m.prospect).toEqual({});
    expect(m.samples).toEqual([]);
    expect(m.fields.headline).toEqual({ type: 'text', required: true, maxLength: 40 });
    const el = m.pages[0]?.elements[0];
    expect(el).toMatchObject({
      type: 'text',
      name: 'headline',
      field: 'headline',
      valign: 'top',
      lineHeight: 1.2,
      uppercase: false,
      bleeds: false,
    });
    // No alignment is where the text starts: left, or right in right-to-left text.
    expect(el).not.toHaveProperty('align');
    expect(m.hyphenate).toBe(false);
  });

  it('converts element lengths to points', () => {
    const m = manifestSchema.parse(
      withElements([text('t', { x: '0.5in', y: '12mm', w: '2.54cm', h: '6pt' })]),
    );
    expect(m.pages[0]?.elements[0]).toMatchObject({ x: 36, y: 34.016, w: 72, h: 6 });
  });

  it('defaults an input type to text', () => {
    const m = manifestSchema.parse({ ...minimalManifest(), prospect: { city: {} } });
    expect(m.prospect.city).toEqual({ type: 'text', required: false });
  });
});

describe('manifestSchema: rejections name the offending path', () => {
  it('rejects an unknown top-level key', () => {
    const issues = issuesOf({ ...minimalManifest(), colour: {} });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'unrecognized_keys', path: [] });
    expect(issues[0]?.message).toContain('colour');
  });

  it.each(['Insurance', 'my_template', '-leading', 'a b', '', 'x'.repeat(65)])('rejects the id %j', (id) => {
    const issues = issuesOf({ ...minimalManifest(), id });
    expect(issues.map((i) => i.path)).toEqual([['id']]);
  });

  it('accepts PDF/A-2b and PDF/A-1b as the output standard, and names the key of any other', () => {
    for (const standard of ['PDF/A-2b', 'PDF/A-1b'])
      expect(manifestSchema.parse({ ...minimalManifest(), output: { standard } }).output?.standard).toBe(
        standard,
      );
    expect(pathsOf({ ...minimalManifest(), output: { standard: 'PDF/A-3b' } })).toEqual([
      ['output', 'standard'],
    ]);
  });

  it('accepts a slug id', () => {
    expect(manifestSchema.safeParse({ ...minimalManifest(), id: 'insurance-brochure-2' }).success).toBe(true);
  });

  it('rejects a WOFF2 font file', () => {
    const issues = issuesOf({ ...minimalManifest(), fonts: { body: { regular: 'fonts/Body.WOFF2' } } });
    expect(issues.map((i) => i.path)).toEqual([['fonts', 'body', 'regular']]);
    expect(issues[0]?.message).toMatch(/WOFF2/);
  });

  it('accepts TTF, OTF and WOFF fonts', () => {
    const fonts = { body: { regular: 'a.ttf', bold: 'b.otf', italic: 'c.woff' } };
    expect(manifestSchema.safeParse({ ...minimalManifest(), fonts }).success).toBe(true);
  });

  it('rejects "constructor" and "prototype" as field names', () => {
    for (const name of ['constructor', 'prototype']) {
      const fields = JSON.parse(`{"${name}": {"type": "text"}, "headline": {"type": "text"}}`) as unknown;
      expect(pathsOf({ ...minimalManifest(), fields })).toContainEqual(['fields', name]);
    }
  });

  it('rejects "__proto__" as a field name instead of dropping it', () => {
    // JSON.parse makes "__proto__" an own key, as reading template.json does.
    const fields = JSON.parse('{"__proto__": {"type": "text"}, "headline": {"type": "text"}}') as unknown;
    const result = manifestSchema.safeParse({ ...minimalManifest(), fields });
    expect(Object.prototype).not.toHaveProperty('type');
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(['fields', '__proto__']);
  });

  it('rejects a field name that is not an identifier', () => {
    expect(pathsOf({ ...minimalManifest(), fields: { headline: {}, 'first-name': {} } })).toContainEqual([
      'fields',
      'first-name',
    ]);
  });

  it('rejects a choice input without choices', () => {
    const issues = issuesOf({ ...minimalManifest(), prospect: { line: { type: 'choice' } } });
    expect(issues.map((i) => i.path)).toEqual([['prospect', 'line', 'choices']]);
    expect(issues[0]?.message).toBe('a choice input needs choices');
  });

  it('rejects choices on an input that is not a choice', () => {
    expect(pathsOf({ ...minimalManifest(), prospect: { line: { type: 'text', choices: ['a'] } } })).toEqual([
      ['prospect', 'line', 'choices'],
    ]);
  });

  it('rejects an invalid regular expression as a pattern', () => {
    expect(pathsOf({ ...minimalManifest(), prospect: { zip: { pattern: '([0-9]' } } })).toEqual([
      ['prospect', 'zip', 'pattern'],
    ]);
  });

  it('rejects a boolean default on a text input and a text default on a boolean input', () => {
    const prospect = { a: { type: 'text', default: true }, b: { type: 'boolean', default: 'yes' } };
    expect(pathsOf({ ...minimalManifest(), prospect })).toEqual([
      ['prospect', 'a', 'default'],
      ['prospect', 'b', 'default'],
    ]);
  });

  it('rejects duplicate element names, at the second one', () => {
    const issues = issuesOf(withElements([text('title'), text('body'), text('title')]));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(['pages', 0, 'elements', 2, 'name']);
    expect(issues[0]?.message).toContain('"title"');
  });

  it('rejects duplicate element names across pages', () => {
    const m = {
      ...minimalManifest(),
      pages: [
        { name: 'front', elements: [text('title')] },
        { name: 'back', elements: [text('title')] },
      ],
    };
    expect(pathsOf(m)).toEqual([['pages', 1, 'elements', 0, 'name']]);
  });

  it('rejects a text element with neither text nor field', () => {
    const issues = issuesOf(withElements([text('ok'), text('empty', { text: undefined })]));
    expect(issues.map((i) => i.path)).toEqual([['pages', 0, 'elements', 1]]);
    expect(issues[0]?.message).toBe('a text element needs text or a field');
  });

  it('rejects a text element bound to an undeclared field', () => {
    expect(pathsOf(withElements([text('t', { text: undefined, field: 'nope' })]))).toEqual([
      ['pages', 0, 'elements', 0, 'field'],
    ]);
  });

  it('rejects an image with both src and input, and one with neither', () => {
    const image = { type: 'image', x: 0, y: 0, w: 50, h: 50 };
    const both = { ...image, name: 'both', src: 'images/a.jpg', input: 'rep.photo' };
    const neither = { ...image, name: 'neither' };
    const issues = issuesOf(withElements([both, neither]));
    expect(issues.map((i) => i.path)).toEqual([
      ['pages', 0, 'elements', 0],
      ['pages', 0, 'elements', 1],
    ]);
    expect(issues[0]?.message).toBe('an image element needs exactly one of src or input');
  });

  it('rejects minSize larger than size', () => {
    const issues = issuesOf(withElements([text('t', { size: 10, minSize: 12 })]));
    expect(issues.map((i) => i.path)).toEqual([['pages', 0, 'elements', 0, 'minSize']]);
    expect(manifestSchema.safeParse(withElements([text('t', { size: 10, minSize: 10 })])).success).toBe(true);
  });

  it('rejects a reference to an undeclared font, wherever it is', () => {
    const issues = issuesOf(
      withElements([text('t', { font: 'serif' })], { defaultFont: 'mono', fallbackFonts: ['body', 'emoji'] }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      ['defaultFont'],
      ['fallbackFonts', 1],
      ['pages', 0, 'elements', 0, 'font'],
    ]);
    expect(issues[2]?.message).toContain('unknown font "serif"');
  });

  it('rejects a manifest that declares no font', () => {
    expect(pathsOf({ ...minimalManifest(), fonts: {} })).toEqual([['fonts']]);
  });

  it.each(['../fonts/a.ttf', 'fonts/../../a.ttf', '/etc/fonts/a.ttf', 'fonts\\a.ttf', 'C:/fonts/a.ttf'])(
    'rejects the font path %j',
    (file) => {
      const issues = issuesOf({ ...minimalManifest(), fonts: { body: { regular: file } } });
      expect(issues.map((i) => i.path)).toEqual([['fonts', 'body', 'regular']]);
      expect(issues[0]?.message).toBe('must be a relative path inside the template package');
    },
  );

  it('rejects ".." in svg sources and image fallbacks', () => {
    const svg = { type: 'svg', name: 'art', x: 0, y: 0, w: 10, h: 10, src: '../art/logo.svg' };
    const image = {
      type: 'image',
      name: 'photo',
      x: 0,
      y: 0,
      w: 10,
      h: 10,
      input: 'rep.photo',
      fallback: 'images/../../x.jpg',
    };
    expect(pathsOf(withElements([svg, image]))).toEqual([
      ['pages', 0, 'elements', 0, 'src'],
      ['pages', 0, 'elements', 1, 'fallback'],
    ]);
  });

  it('accepts ".." inside a file name, which is not a path segment', () => {
    const fonts = { body: { regular: 'fonts/Body..Regular.ttf' } };
    expect(manifestSchema.safeParse({ ...minimalManifest(), fonts }).success).toBe(true);
  });

  it('rejects an unknown key inside an element', () => {
    expect(pathsOf(withElements([text('t', { colour: 'red' })]))).toEqual([['pages', 0, 'elements', 0]]);
  });

  it('rejects a condition on a path outside rep, prospect and fields', () => {
    const issues = issuesOf(withElements([text('t', { when: { path: 'record.x', equals: 'a' } })]));
    expect(issues[0]?.path.slice(0, 5)).toEqual(['pages', 0, 'elements', 0, 'when']);
  });

  it('rejects a bad colour', () => {
    expect(pathsOf({ ...minimalManifest(), colors: { brand: '#12345' } })).toEqual([['colors', 'brand']]);
    expect(pathsOf({ ...minimalManifest(), colors: { brand: { cmyk: [0, 0, 0, 101] } } })).toEqual([
      ['colors', 'brand', 'cmyk', 3],
    ]);
  });
});

describe('pageGeometry', () => {
  const geometry = (page: unknown) =>
    pageGeometry(manifestSchema.parse({ ...minimalManifest(), page } as unknown));

  it('uses presets in their natural orientation', () => {
    expect(geometry({ size: 'letter' })).toEqual({ trimWidth: 612, trimHeight: 792, bleed: 0 });
    expect(geometry({ size: 'a4' })).toEqual({ trimWidth: 595.276, trimHeight: 841.89, bleed: 0 });
    expect(geometry({ size: 'postcard-6x4' })).toEqual({ trimWidth: 432, trimHeight: 288, bleed: 0 });
    expect(geometry({ size: 'envelope-10' })).toEqual({ trimWidth: 684, trimHeight: 297, bleed: 0 });
  });

  it('swaps width and height for landscape portrait presets and portrait landscape ones', () => {
    expect(geometry({ size: 'letter', orientation: 'landscape' })).toMatchObject({
      trimWidth: 792,
      trimHeight: 612,
    });
    expect(geometry({ size: 'postcard-6x4', orientation: 'portrait' })).toMatchObject({
      trimWidth: 288,
      trimHeight: 432,
    });
  });

  it('leaves a size alone when it already has the asked orientation', () => {
    expect(geometry({ size: 'letter', orientation: 'portrait' })).toMatchObject({
      trimWidth: 612,
      trimHeight: 792,
    });
    expect(geometry({ size: 'postcard-6x9', orientation: 'landscape' })).toMatchObject({
      trimWidth: 648,
      trimHeight: 432,
    });
  });

  it('takes custom sizes in any unit, and parses the bleed', () => {
    expect(geometry({ size: { width: '6in', height: '4in' }, bleed: '0.125in' })).toEqual({
      trimWidth: 432,
      trimHeight: 288,
      bleed: 9,
    });
    expect(
      geometry({ size: { width: '210mm', height: '297mm' }, orientation: 'landscape', bleed: '3mm' }),
    ).toEqual({ trimWidth: 841.89, trimHeight: 595.276, bleed: 8.504 });
  });

  it('rejects unknown presets and orientations', () => {
    expect(pathsOf({ ...minimalManifest(), page: { size: 'tabloid' } })).toEqual([['page', 'size']]);
    expect(pathsOf({ ...minimalManifest(), page: { size: 'letter', orientation: 'sideways' } })).toEqual([
      ['page', 'orientation'],
    ]);
  });
});

describe('toColor', () => {
  it('turns hex colours into RGB components 0..1', () => {
    expect(toColor('#000000')).toEqual({ space: 'rgb', values: [0, 0, 0] });
    expect(toColor('#FFFFFF')).toEqual({ space: 'rgb', values: [1, 1, 1] });
    expect(toColor('#ff8000')).toEqual({ space: 'rgb', values: [1, 128 / 255, 0] });
    const navy = toColor('#1F3A5F');
    expect(navy.space).toBe('rgb');
    expect(navy.values[0]).toBeCloseTo(31 / 255, 10);
    expect(navy.values[1]).toBeCloseTo(58 / 255, 10);
    expect(navy.values[2]).toBeCloseTo(95 / 255, 10);
  });

  it('turns CMYK percentages into components 0..1', () => {
    expect(toColor({ cmyk: [0, 50, 100, 10] })).toEqual({ space: 'cmyk', values: [0, 0.5, 1, 0.1] });
    expect(toColor({ cmyk: [100, 0, 0, 0] })).toEqual({ space: 'cmyk', values: [1, 0, 0, 0] });
  });
});

describe('manifestSchema: output.standard', () => {
  it('accepts PDF/X-4 and PDF/X-1a with CMYK colour', () => {
    for (const standard of ['PDF/X-4', 'PDF/X-1a'] as const) {
      const parsed = manifestSchema.parse({ ...minimalManifest(), output: { colorSpace: 'cmyk', standard } });
      expect(parsed.output?.standard).toBe(standard);
    }
  });

  it('refuses a PDF/X standard in RGB, at the standard, saying what to change', () => {
    expect(issuesOf({ ...minimalManifest(), output: { standard: 'PDF/X-1a' } })).toEqual([
      {
        path: ['output', 'standard'],
        message: "PDF/X-1a prints in CMYK: set the output's colour space to CMYK, or choose no standard",
        code: 'custom',
      },
    ]);
  });

  it('refuses a standard it does not know', () => {
    expect(pathsOf({ ...minimalManifest(), output: { colorSpace: 'cmyk', standard: 'PDF/X-3' } })).toEqual([
      ['output', 'standard'],
    ]);
  });
});
