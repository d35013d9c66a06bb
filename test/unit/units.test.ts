import { describe, expect, it } from 'vitest';
import { lengthSchema, parseLength, round } from '../../src/model/units.js';

describe('parseLength', () => {
  it.each([
    ['12mm', 34.016],
    ['0.5in', 36],
    ['1in', 72],
    ['2.54cm', 72],
    ['6pt', 6],
    ['25.4mm', 72],
    ['0pt', 0],
    ['-3mm', -8.504],
  ])('parses %s as %d pt', (text, points) => {
    expect(parseLength(text)).toBe(points);
  });

  it('rounds to a thousandth of a point', () => {
    // 1 mm = 2.834645… pt
    expect(parseLength('1mm')).toBe(2.835);
    expect(round(1.23456)).toBe(1.235);
    expect(round(-0.0004)).toBe(-0);
  });

  it('accepts surrounding whitespace and a space before the unit', () => {
    expect(parseLength(' 12mm ')).toBe(34.016);
    expect(parseLength('12 mm')).toBe(34.016);
  });

  it.each(['12 px', 'abc', '12', '', 'mm', '12MM', '.5in', '1e2pt', '12mm12', '1,5cm'])(
    'rejects %j',
    (text) => {
      expect(() => parseLength(text)).toThrow(/not a length/);
    },
  );
});

describe('lengthSchema', () => {
  it.each([
    ['12mm', 34.016],
    ['0.5in', 36],
    ['2.54cm', 72],
    ['6pt', 6],
  ])('turns %s into %d points', (text, points) => {
    expect(lengthSchema.parse(text)).toBe(points);
  });

  it('passes numbers through as points, unrounded', () => {
    expect(lengthSchema.parse(12)).toBe(12);
    expect(lengthSchema.parse(0)).toBe(0);
    expect(lengthSchema.parse(12.34567)).toBe(12.34567);
    expect(lengthSchema.parse(-9)).toBe(-9);
  });

  it.each(['12 px', 'abc', '12', '', '0.5 inches'])('rejects %j with the length message', (text) => {
    const result = lengthSchema.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected a length such as 12, "12mm", "0.5in"');
  });

  it.each([Number.POSITIVE_INFINITY, Number.NaN, null, true, { mm: 12 }])('rejects %j', (value) => {
    expect(lengthSchema.safeParse(value).success).toBe(false);
  });
});
