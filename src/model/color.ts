/** A named ink (Separation colour space), declared once per template and written once per document. */
export interface SpotInk {
  /** The palette key: the colour space's resource name. */
  key: string;
  /** The ink's name as the printer knows it, e.g. "PANTONE 2597 C". */
  ink: string;
  /** The CMYK mix (0..1) that stands in for the ink on process-only output. */
  alternate: [number, number, number, number];
}

/** Components 0..1; a spot colour's one value is its tint. */
export type Color =
  | { space: 'rgb'; values: [number, number, number] }
  | { space: 'cmyk'; values: [number, number, number, number] }
  | { space: 'spot'; values: [number]; spot: SpotInk };

/**
 * How a template's documents are set up for press (manifest `output`): marks, and the colour space
 * every colour and image was converted to at compile time.
 */
export interface PrintSetup {
  marks: boolean;
  colorSpace: 'rgb' | 'cmyk';
  /** Every spot ink the palette declares. */
  spots: SpotInk[];
}
