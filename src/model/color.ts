import type { PdfXStandard } from './manifest.js';
/** A named ink (Separation colour space), declared once per template and written once per document. */
export interface SpotInk {
  /** The palette key: the colour space's resource name. */
  key: string;
  /** The ink's name as the printer knows it, e.g. "PANTONE 2597 C". */
  ink: string;
  /** The CMYK mix (0..1) that stands in for the ink on process-only output. */
  alternate: [number, number, number, number];
}

/**
 * Components 0..1; a spot colour's one value is its tint. `nearBlack` marks a four-ink mix of 80 %
 * black or more in a CMYK document (unless its palette entry keeps its inks): small text prints it on
 * black alone (see textInk).
 */
export type Color =
  | { space: 'rgb'; values: [number, number, number] }
  | { space: 'cmyk'; values: [number, number, number, number]; nearBlack?: true }
  | { space: 'spot'; values: [number]; spot: SpotInk };

/** Black ink alone, at 100 %: what barcodes and small near-black text print in (README.md, "Black"). */
export const BLACK: Color = { space: 'cmyk', values: [0, 0, 0, 1] };

/** Text under this size (pt) in a near-black mix prints on black ink alone: four plates cannot register it. */
export const SMALL_TEXT = 12;

/** The colour text of this size prints in: small near-black text on black ink alone. */
export function textInk(color: Color, size: number): Color {
  return color.space === 'cmyk' && color.nearBlack && size < SMALL_TEXT ? BLACK : color;
}

/**
 * How a template's documents are set up for press (manifest `output`): marks, and the colour space
 * every colour and image was converted to at compile time.
 */
export interface PrintSetup {
  marks: boolean;
  colorSpace: 'rgb' | 'cmyk';
  /** Every spot ink the palette declares. */
  spots: SpotInk[];
  /** The press standard the file is written to (manifest `output.standard`), in CMYK. */
  standard?: PdfXStandard;
}
