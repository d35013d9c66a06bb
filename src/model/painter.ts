import type { PreparedImage } from '../assets/images.js';
import type { Box } from './geometry.js';
import type { TextItem } from './text.js';

/**
 * The draw step's side of an element kind's `draw`: what an element may ask of the PDF being
 * written. An element decides what to draw (geometry, operators); the painter owns how it is
 * written (resources, fonts, shared objects), so no element sees the PDF library. Coordinates are
 * the page's trim space, in points, y down.
 */
export interface Painter {
  /** Appends content-stream operators (written as they are, one line after another). */
  write(ops: string): void;
  /** Path construction, by the PDF library's own operators and curves. */
  rect(x: number, y: number, w: number, h: number): void;
  roundedRect(x: number, y: number, w: number, h: number, radius: number): void;
  ellipse(cx: number, cy: number, rx: number, ry: number): void;
  line(x1: number, y1: number, x2: number, y2: number): void;
  /**
   * Makes an image available to the content being drawn, once per document by content hash, and
   * names it for `Do`. The image drawn may be a stand-in (a screen preview's, a CMYK copy): its
   * pixel size is what placement is computed from.
   */
  image(image: PreparedImage, keepRgb: boolean): { name: string; width: number; height: number };
  /** Sets fitted text lines in the document's fonts (recurring lines are drawn once and reused). */
  text(item: TextItem): void;
  /** Draws SVG art into its box (flat art as replayed operators, its colours converted when asked). */
  svg(art: SvgArt): void;
}

/** SVG art as the painter draws it: checked source, its box, and whether to convert it to CMYK. */
export interface SvgArt {
  svg: string;
  box: Box;
  /** Its colours are converted to CMYK as it is drawn (a CMYK document, no `keepRgb`). */
  cmyk?: boolean;
}
