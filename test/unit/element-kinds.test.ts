import { describe, expect, it } from 'vitest';
import { KINDS } from '../../src/elements/registry.js';

/** The registry's promises about each kind: its description matches its schema. */
describe.each(Object.values(KINDS))('the $type kind', (kind) => {
  const shape = kind.schema.shape as Record<string, unknown>;

  it('is listed under its own type, which its schema requires', () => {
    expect(KINDS[kind.type as keyof typeof KINDS]).toBe(kind);
    expect(kind.schema.shape.type.value).toBe(kind.type);
  });

  it("describes every key of its schema in the designer's properties, and no other", () => {
    const described = new Set(kind.editor.properties.map((p) => p.key.split('.')[0]));
    expect([...described].sort()).toEqual(
      Object.keys(shape)
        .filter((key) => key !== 'type')
        .sort(),
    );
    const keys = kind.editor.properties.map((p) => p.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
