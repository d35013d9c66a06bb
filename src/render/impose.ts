import type { PageGeometry } from '../model/geometry.js';
import { parseLength } from '../model/units.js';
import { num } from './color.js';
import { CROP_LENGTH, MARK_GAP, MARKS_MARGIN, strokeMarks } from './marks.js';

/**
 * Step-and-repeat imposition of a print file: pieces n-up on a press sheet, in row order, cells abutting
 * at their bleed edges; with crop marks per sheet, in the margin, on every cell's trim lines. A piece of
 * several pages gets a sheet per page: the backs (odd pages) mirror the columns, so a sheet turned on
 * its long edge (work-and-turn) backs every front with its own back.
 */

/** The press sheet, in points, as given; the layout may turn it if that fits more pieces. */
export interface SheetSize {
  width: number;
  height: number;
}

export interface SheetLayout {
  width: number;
  height: number;
  across: number;
  down: number;
  /** Top left of the trim of cell `index` (row order) on a front or back sheet, y down. */
  origin(index: number, back: boolean): [number, number];
  /** The sheet's crop marks, in sheet space (y down from its top left). */
  marks(): string;
}

export class SheetTooSmallError extends Error {}

/** A sheet size such as `12x18in`, `12inx18in` or `864x1296` (points); null if it is not one. */
export function parseSheetSize(text: string): SheetSize | null {
  const match = /^(\d+(?:\.\d+)?)(pt|in|mm|cm)?x(\d+(?:\.\d+)?)(pt|in|mm|cm)?$/.exec(text.trim());
  if (!match) return null;
  const unit = match[4] ?? match[2] ?? 'pt';
  return { width: parseLength(`${match[1]}${match[2] ?? unit}`), height: parseLength(`${match[3]}${unit}`) };
}

export function sheetLayout(geometry: PageGeometry, sheet: SheetSize): SheetLayout {
  const { trimWidth: w, trimHeight: h, bleed: b } = geometry;
  const cellW = w + 2 * b;
  const cellH = h + 2 * b;
  const fit = (width: number, height: number) => ({
    width,
    height,
    across: Math.floor((width - 2 * MARKS_MARGIN + 1e-6) / cellW),
    down: Math.floor((height - 2 * MARKS_MARGIN + 1e-6) / cellH),
  });
  const asGiven = fit(sheet.width, sheet.height);
  const turned = fit(sheet.height, sheet.width);
  const best = turned.across * turned.down > asGiven.across * asGiven.down ? turned : asGiven;
  const { width, height, across, down } = best;
  if (across < 1 || down < 1) {
    throw new SheetTooSmallError(
      `a ${num(sheet.width / 72)} × ${num(sheet.height / 72)} in sheet cannot hold one ${num(cellW / 72)} × ${num(cellH / 72)} in piece (with bleed) and its marks`,
    );
  }
  // The grid is centred; x0, y0 is the first cell's trim corner.
  const x0 = (width - across * cellW) / 2 + b;
  const y0 = (height - down * cellH) / 2 + b;
  return {
    width,
    height,
    across,
    down,
    origin(index, back) {
      const row = Math.floor(index / across);
      const col = index % across;
      return [x0 + (back ? across - 1 - col : col) * cellW, y0 + row * cellH];
    },
    marks() {
      const lines: string[] = [];
      const top = y0 - b - MARK_GAP;
      const bottom = y0 + (down - 1) * cellH + h + b + MARK_GAP;
      const left = x0 - b - MARK_GAP;
      const right = x0 + (across - 1) * cellW + w + b + MARK_GAP;
      const v = (x: number, from: number, to: number) =>
        lines.push(`${num(x)} ${num(from)} m ${num(x)} ${num(to)} l`);
      const hz = (y: number, from: number, to: number) =>
        lines.push(`${num(from)} ${num(y)} m ${num(to)} ${num(y)} l`);
      for (let col = 0; col < across; col++) {
        for (const x of [x0 + col * cellW, x0 + col * cellW + w]) {
          v(x, top, top - CROP_LENGTH);
          v(x, bottom, bottom + CROP_LENGTH);
        }
      }
      for (let row = 0; row < down; row++) {
        for (const y of [y0 + row * cellH, y0 + row * cellH + h]) {
          hz(y, left, left - CROP_LENGTH);
          hz(y, right, right + CROP_LENGTH);
        }
      }
      return strokeMarks(lines);
    },
  };
}
