import { describe, expect, it } from 'vitest';
import { elementSchema } from '../../src/elements/registry.js';
import { DesignerService } from '../../src/service/designer.js';

/** kinds() reads the registry and presets only: no store, templates or cache are needed. */
const designer = new DesignerService(null as never, null as never, null as never, '');

describe('what the designer builds its panels from', () => {
  it("each kind's defaults, given a name and a box, are a valid element of that kind", () => {
    for (const kind of designer.kinds().kinds) {
      const parsed = elementSchema.safeParse({
        ...kind.defaults,
        name: 'added',
        x: 10,
        y: 10,
        w: 100,
        h: 40,
      });
      expect(parsed.success, `${kind.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(kind.defaults.type).toBe(kind.type);
      expect(kind.properties.map((p) => p.key)).toEqual(expect.arrayContaining(['name', 'x', 'y', 'w', 'h']));
    }
  });

  it('page presets are in points, with labels; pattern presets say what they accept in words', () => {
    const { pagePresets, patternPresets } = designer.kinds();
    expect(pagePresets).toContainEqual({
      id: 'letter',
      label: 'Letter (8.5 × 11 in)',
      width: 612,
      height: 792,
    });
    for (const p of patternPresets) expect(p.description).not.toMatch(/[\^$\\[\]]/);
  });
});
