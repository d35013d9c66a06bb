import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/model/manifest.js';
import { describeChanges } from '../../src/service/changes.js';
import { manifestSchema } from '../../src/template/manifest.js';
import { minimalManifest } from '../support/records.js';

const base = (): Record<string, unknown> => ({
  ...minimalManifest(),
  colors: { navy: '#112233' },
  prospect: { zip: { label: 'ZIP code', format: 'us-zip' } },
  samples: [{ name: 'Pat', record: { fields: { headline: 'Hi' } } }],
  pages: [
    {
      name: 'front',
      elements: [
        { type: 'text', name: 'headline', field: 'headline', x: 36, y: 36, w: 300, h: 40, size: 18 },
        { type: 'rect', name: 'box', x: 0, y: 0, w: 10, h: 10, fill: 'navy' },
      ],
    },
  ],
});

const parse = (m: Record<string, unknown>): Manifest => manifestSchema.parse(m);

describe('changes between versions, in words', () => {
  it('lists nothing for the same manifest', () => {
    expect(describeChanges(parse(base()), parse(base()))).toEqual([]);
  });

  it('names elements added, removed, resized and changed, inputs removed, colours, samples and settings', () => {
    const after = base();
    const page = (after.pages as { elements: Record<string, unknown>[] }[])[0]!;
    page.elements[0] = { ...page.elements[0], w: 320, field: undefined, text: 'Hello' };
    page.elements[1] = { type: 'ellipse', name: 'dot', x: 5, y: 5, w: 8, h: 8, fill: 'navy' };
    after.prospect = {};
    after.colors = { navy: '#000080' };
    after.samples = [{ name: 'Pat', record: { fields: { headline: 'Hello' } } }];
    after.name = 'Renamed';
    expect(describeChanges(parse(base()), parse(after))).toEqual([
      { what: 'element', name: 'headline', change: 'resized', detail: 'from 300 × 40 to 320 × 40 pt' },
      {
        what: 'element',
        name: 'headline',
        change: 'changed',
        detail: 'Field from "headline" to nothing; Text from nothing to "Hello"',
      },
      { what: 'element', name: 'dot', change: 'added', detail: 'element added' },
      { what: 'element', name: 'box', change: 'removed', detail: 'element removed' },
      { what: 'input', name: 'ZIP code', change: 'removed', detail: 'input removed' },
      { what: 'palette', name: 'navy', change: 'changed', detail: 'from "#112233" to "#000080"' },
      { what: 'sample', name: 'Pat', change: 'changed', detail: 'its record changed' },
      { what: 'setting', name: 'name', change: 'changed', detail: 'from "Demo template" to "Renamed"' },
    ]);
  });

  it('a first version is all added', () => {
    const changes = describeChanges(null, parse(base()));
    expect(changes.every((c) => c.change === 'added')).toBe(true);
    expect(changes.map((c) => `${c.what} ${c.name}`)).toEqual([
      'page front',
      'element headline',
      'element box',
      'input ZIP code',
      'input headline',
      'palette navy',
      'font body',
      'sample Pat',
    ]);
  });
});
