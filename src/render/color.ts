import type { Color } from '../template/model.js';

/** Compact number formatting for content streams: at most 3 decimals, no trailing zeros. */
export function num(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** The colour operator: `rg`/`k` for fill, `RG`/`K` for stroke. */
export function colorOp(color: Color, target: 'fill' | 'stroke'): string {
  const values = color.values.map(num).join(' ');
  if (color.space === 'rgb') return `${values} ${target === 'fill' ? 'rg' : 'RG'}`;
  return `${values} ${target === 'fill' ? 'k' : 'K'}`;
}
