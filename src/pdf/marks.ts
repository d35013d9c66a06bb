import { num } from './syntax.js';

/**
 * Printer's marks: crop marks on the trim lines and, when there is bleed, bleed marks on the bleed
 * lines, all outside the bleed so none can print on the piece. The media grows by MARKS_MARGIN on
 * every side to hold them.
 */

/** A piece's trim and its bleed beyond it on every side, in points. */
export interface TrimAndBleed {
  trimWidth: number;
  trimHeight: number;
  bleed: number;
}

/** The resource name of the registration colour (every separation at 100%) marks are drawn in. */
export const REGISTRATION = 'CSAll';

/** Gap between the bleed edge and the marks. */
export const MARK_GAP = 6;
export const CROP_LENGTH = 18;
const BLEED_LENGTH = 9;
/** What marks add to the media on each side, beyond the bleed. */
export const MARKS_MARGIN = MARK_GAP + CROP_LENGTH + 6;
/** Hairline: 0.25 pt, as presses expect. */
const LINE_WIDTH = 0.25;

/** Mark lines (`x y m x y l` each) stroked as hairlines in the registration colour. */
export function strokeMarks(lines: string[]): string {
  return `q\n${LINE_WIDTH} w\n/${REGISTRATION} CS 1 SCN\n${lines.join('\n')}\nS\nQ`;
}

/** The content stream of a page's marks, in trim space (y down from the trim's top left). */
export function marksOps({ trimWidth: w, trimHeight: h, bleed }: TrimAndBleed): string {
  const lines: string[] = [];
  const from = bleed + MARK_GAP;
  // For each corner: a horizontal mark beside the corner and a vertical one above/below it.
  const corner = (x: number, y: number, sx: number, sy: number, at: number, length: number) => {
    lines.push(
      `${num(x + sx * from)} ${num(y + sy * at)} m ${num(x + sx * (from + length))} ${num(y + sy * at)} l`,
    );
    lines.push(
      `${num(x + sx * at)} ${num(y + sy * from)} m ${num(x + sx * at)} ${num(y + sy * (from + length))} l`,
    );
  };
  for (const [x, y, sx, sy] of [
    [0, 0, -1, -1],
    [w, 0, 1, -1],
    [0, h, -1, 1],
    [w, h, 1, 1],
  ] as const) {
    corner(x, y, sx, sy, 0, CROP_LENGTH);
    if (bleed > 0) corner(x, y, sx, sy, bleed, BLEED_LENGTH);
  }
  return strokeMarks(lines);
}
