import { describe, expect, it } from 'vitest';
import { designProblems } from '../../src/template/design-problems.js';

/** A manifest as a designer sends it: parsed JSON, valid or not. */
const manifest = {
  id: 'words',
  pages: [
    { name: 'front', elements: [{ name: 'photo', type: 'image' }] },
    {
      name: 'back',
      elements: [{ name: 'logo', type: 'svg' }, { name: 'headline', type: 'text' }, { type: 'rect' }],
    },
  ],
  prospect: { zip: { label: 'ZIP code', format: 'us-zip' }, city: {} },
  fields: { message: { label: 'Your message', maxLength: 80 } },
  colors: { navy: '#112233' },
  samples: [{ name: 'Pat Lee', record: {} }],
};

const cases: {
  path: string;
  message: string;
  expected: { element?: string; page?: string; input?: string; message: string };
}[] = [
  {
    path: 'pages[1].elements[1].text',
    message: 'unknown helper "shout"',
    expected: { element: 'headline', page: 'back', message: '"headline" (Text): unknown helper "shout"' },
  },
  {
    path: 'pages[1].elements[1].size',
    message: 'expected number, received string',
    expected: {
      element: 'headline',
      page: 'back',
      message: '"headline" (Size): expected number, received string',
    },
  },
  {
    path: 'pages[0].elements[0]',
    message: '"photo" extends outside the page and its bleed',
    expected: { element: 'photo', page: 'front', message: '"photo" extends outside the page and its bleed' },
  },
  {
    path: 'pages[1].elements[2].w',
    message: 'must be positive',
    expected: { page: 'back', message: 'element 3 on page "back" (Width): must be positive' },
  },
  {
    path: 'pages[1]',
    message: 'too many elements',
    expected: { page: 'back', message: 'Page "back": too many elements' },
  },
  {
    path: 'fields.message.maxLength',
    message: 'expected number, received string',
    expected: {
      input: 'Your message',
      message: '"Your message" (maximum length): expected number, received string',
    },
  },
  {
    path: 'prospect.city.pattern',
    message: 'not a valid regular expression',
    expected: { input: 'city', message: '"city" (custom pattern): not a valid regular expression' },
  },
  {
    path: 'samples[0].record.prospect.zip',
    message: 'does not match ^[0-9]{5}$',
    expected: {
      input: 'ZIP code',
      message: 'Sample "Pat Lee": "ZIP code": is not in the form this field needs',
    },
  },
  {
    path: 'samples[0].record.prospect.zip',
    message: 'ZIP code: 5 digits, or ZIP+4 such as 04101-1234',
    expected: {
      input: 'ZIP code',
      message: 'Sample "Pat Lee": ZIP code: 5 digits, or ZIP+4 such as 04101-1234',
    },
  },
  {
    path: 'samples[0].elements.photo',
    message: 'the image prints at 96 ppi, under 150 ppi',
    expected: {
      element: 'photo',
      page: 'front',
      message: 'Sample "Pat Lee": "photo": the image prints at 96 ppi, under 150 ppi',
    },
  },
  {
    path: 'colors.navy',
    message: 'Invalid string: must match pattern /^#[0-9A-Fa-f]{6}$/',
    expected: { message: 'Colour "navy": Invalid string: is not in the form this field needs' },
  },
  {
    path: 'output.landingUrl',
    message: 'required',
    expected: { message: 'Landing page address: required' },
  },
  {
    path: 'output.standard',
    message: "PDF/X-4 prints in CMYK: set the output's colour space to CMYK, or choose no standard",
    expected: {
      message:
        "Print standard: PDF/X-4 prints in CMYK: set the output's colour space to CMYK, or choose no standard",
    },
  },
  {
    path: 'pages[1].elements[0].src',
    message: 'the art in pages[0].elements[0] overlaps it',
    expected: { element: 'logo', page: 'back', message: '"logo" (SVG file): the art in "photo" overlaps it' },
  },
];

describe('template problems in words', () => {
  it.each(cases)('$path: $message', ({ path, message, expected }) => {
    const [described] = designProblems(manifest, [{ path, rule: 'r', message }]);
    expect(described).toEqual({ path, rule: 'r', ...expected });
  });

  it('no message shows a JSON path or a regular expression', () => {
    const described = designProblems(
      manifest,
      cases.map(({ path, message }) => ({ path, rule: 'r', message })),
    );
    for (const { message } of described) {
      expect(message).not.toMatch(/\w\[\d+\]|\^\[|\$\//);
    }
  });

  it('words a manifest that is not an object by the path alone', () => {
    expect(
      designProblems('nonsense', [{ path: 'pages[0].elements[1].x', rule: 'r', message: 'bad' }]),
    ).toEqual([{ path: 'pages[0].elements[1].x', rule: 'r', message: 'element 2 on page 1 (x): bad' }]);
  });
});
