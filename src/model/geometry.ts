/** Points, from the top-left corner of the trim box. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PageGeometry {
  trimWidth: number;
  trimHeight: number;
  bleed: number;
}

/** The press sheet, in points, as given; the layout may turn it if that fits more pieces. */
export interface SheetSize {
  width: number;
  height: number;
}
