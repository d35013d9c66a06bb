import type { PageGeometry, SheetSize } from '../model/geometry.js';
import { CROP_LENGTH, MARK_GAP, MARKS_MARGIN, strokeMarks } from './marks.js';
import { num } from './syntax.js';

/**
 * Step-and-repeat imposition of a print file: pieces n-up on a press sheet, in row order, cells abutting
 * at their bleed edges; with crop marks per sheet, in the margin, on the trim lines of every cell that
 * holds a piece; each sheet's TrimBox and BleedBox are the grid's. A piece of
 * several pages gets a sheet per page: the backs (odd pages) mirror the columns, so a sheet turned on
 * its long edge (work-and-turn) backs every front with its own back.
 */

export interface SheetLayout {
  width: number;
  height: number;
  across: number;
  down: number;
  /** Where the piece `index` (row order) of a group lies on a front or back sheet: its grid cell, in row order. */
  slot(index: number, back: boolean): number;
  /** Top left of the trim of cell `index` (row order) on a front or back sheet, y down. */
  origin(index: number, back: boolean): [number, number];
  /**
   * The crop marks of a sheet whose cells `slots` hold pieces, in sheet space (y down from its top
   * left): each pair beside a filled cell, none beside an empty one.
   */
  marks(slots: readonly number[]): string;
  /** The grid's trim and bleed, in PDF space (y up): every sheet's TrimBox and BleedBox. */
  trimBox: number[];
  bleedBox: number[];
}

export class SheetTooSmallError extends Error {}

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
  const gridW = (across - 1) * cellW + w;
  const gridH = (down - 1) * cellH + h;
  const slot = (index: number, back: boolean) => {
    const col = index % across;
    return index - col + (back ? across - 1 - col : col);
  };
  return {
    width,
    height,
    across,
    down,
    slot,
    origin(index, back) {
      const cell = slot(index, back);
      return [x0 + (cell % across) * cellW, y0 + Math.floor(cell / across) * cellH];
    },
    marks(slots) {
      const filled = new Set(slots);
      const lines: string[] = [];
      const top = y0 - b - MARK_GAP;
      const bottom = y0 + gridH + b + MARK_GAP;
      const left = x0 - b - MARK_GAP;
      const right = x0 + gridW + b + MARK_GAP;
      const v = (x: number, from: number, to: number) =>
        lines.push(`${num(x)} ${num(from)} m ${num(x)} ${num(to)} l`);
      const hz = (y: number, from: number, to: number) =>
        lines.push(`${num(from)} ${num(y)} m ${num(to)} ${num(y)} l`);
      for (let col = 0; col < across; col++) {
        for (const x of [x0 + col * cellW, x0 + col * cellW + w]) {
          if (filled.has(col)) v(x, top, top - CROP_LENGTH);
          if (filled.has((down - 1) * across + col)) v(x, bottom, bottom + CROP_LENGTH);
        }
      }
      for (let row = 0; row < down; row++) {
        for (const y of [y0 + row * cellH, y0 + row * cellH + h]) {
          if (filled.has(row * across)) hz(y, left, left - CROP_LENGTH);
          if (filled.has(row * across + across - 1)) hz(y, right, right + CROP_LENGTH);
        }
      }
      return strokeMarks(lines);
    },
    trimBox: [x0, height - y0 - gridH, x0 + gridW, height - y0].map(num).map(Number),
    bleedBox: [x0 - b, height - y0 - gridH - b, x0 + gridW + b, height - y0 + b].map(num).map(Number),
  };
}

/**
 * A piece's page placed on a sheet: the piece's place in its group (row order), the grid cell it
 * lies in (row order, mirrored on backs) and its trim's top left, y down.
 */
export interface Cell<F> {
  index: number;
  slot: number;
  form: F;
  x: number;
  y: number;
}

/**
 * Steps and repeats pieces, each a form per page, in row order: a group of across × down pieces
 * fills a sheet per page of its longest piece (backs mirrored, see sheetLayout). A document draws its
 * pieces' pages into forms, the joiner makes forms of its parts' pages; each writes the sheets.
 */
export class Imposer<F> {
  private group: F[][] = [];

  constructor(readonly layout: SheetLayout) {}

  /** Adds a piece's pages; the sheets (each its cells) the piece completes, if it completes a group. */
  add(pages: F[]): Cell<F>[][] {
    this.group.push(pages);
    return this.group.length === this.layout.across * this.layout.down ? this.flush() : [];
  }

  /** The last sheets, however full. */
  end(): Cell<F>[][] {
    return this.flush();
  }

  private flush(): Cell<F>[][] {
    const sheets: Cell<F>[][] = [];
    const pages = Math.max(0, ...this.group.map((piece) => piece.length));
    for (let p = 0; p < pages; p++) {
      const cells: Cell<F>[] = [];
      this.group.forEach((piece, index) => {
        const form = piece[p];
        if (form === undefined) return;
        const back = p % 2 === 1;
        const [x, y] = this.layout.origin(index, back);
        cells.push({ index, slot: this.layout.slot(index, back), form, x, y });
      });
      sheets.push(cells);
    }
    this.group = [];
    return sheets;
  }
}

/** A sheet's content stream: each named form placed at its offset, then the sheet's marks (the form `marks`). */
export function sheetContent(placed: { name: string; x: number; y: number }[], marks: string): string {
  return [
    ...placed.map(({ name, x, y }) => `q\n1 0 0 1 ${num(x)} ${num(y)} cm\n/${name} Do\nQ`),
    `/${marks} Do`,
  ].join('\n');
}
