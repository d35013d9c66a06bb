import { z } from 'zod';
import type { SheetSize } from './geometry.js';

/** Points per unit. Template geometry is in points (1/72 in); authors may write mm, cm or in. */
const PER_UNIT = { pt: 1, in: 72, mm: 72 / 25.4, cm: 72 / 2.54 } as const;

const LENGTH_PATTERN = /^(-?\d+(?:\.\d+)?)\s*(pt|in|mm|cm)$/;

/** A length in the manifest: a number of points, or a string such as "12mm", "0.5in", "6pt". */
export const lengthSchema = z
  .union([
    z.number().finite(),
    z.string().regex(LENGTH_PATTERN, 'expected a length such as 12, "12mm", "0.5in"'),
  ])
  .transform((value) => (typeof value === 'number' ? value : parseLength(value)));

export function parseLength(text: string): number {
  const match = LENGTH_PATTERN.exec(text.trim());
  if (!match) throw new Error(`not a length: ${JSON.stringify(text)}`);
  const unit = match[2] as keyof typeof PER_UNIT;
  return round(Number(match[1]) * PER_UNIT[unit]);
}

/** Rounds to 1/1000 pt: more precision than any press, and stable numbers in the PDF. */
export function round(points: number): number {
  return Math.round(points * 1000) / 1000;
}

/** A sheet size such as `12x18in`, `12inx18in` or `864x1296` (points); null if it is not one. */
export function parseSheetSize(text: string): SheetSize | null {
  const match = /^(\d+(?:\.\d+)?)(pt|in|mm|cm)?x(\d+(?:\.\d+)?)(pt|in|mm|cm)?$/.exec(text.trim());
  if (!match) return null;
  const unit = match[4] ?? match[2] ?? 'pt';
  return { width: parseLength(`${match[1]}${match[2] ?? unit}`), height: parseLength(`${match[3]}${unit}`) };
}
