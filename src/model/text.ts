import type { FontFace } from '../assets/fonts.js';
import type { Color } from './color.js';
import type { Box } from './geometry.js';

/** Styled text, its fitting, and the text items every text-bearing element kind hands to fit and draw. */

/** The places a word may break with a hyphen, as code point offsets into it, ascending. */
export type Hyphenator = (word: string) => number[];

export interface FontFamily {
  name: string;
  regular: FontFace;
  bold?: FontFace;
  italic?: FontFace;
  boldItalic?: FontFace;
}

export interface Span {
  text: string;
  bold: boolean;
  italic: boolean;
}

export interface TextSpec {
  width: number;
  height: number;
  /** Preferred size; copyfit shrinks from here down to minSize. */
  size: number;
  minSize?: number;
  lineHeight: number;
  /** Space after each paragraph but the last, in points (a newline ends a paragraph). */
  paragraphSpacing?: number;
  /** `start`: left, or right in a right-to-left paragraph. */
  align: 'start' | 'left' | 'center' | 'right' | 'justify';
  /** The paragraphs' direction; absent: each paragraph's first strong character decides (UAX #9). */
  direction?: 'ltr' | 'rtl';
  valign: 'top' | 'middle' | 'bottom';
  /** The element's family first, then the template's fallback chain. */
  fonts: FontFamily[];
  /** Where words may break with a hyphen (the text's language); absent: words are not hyphenated. */
  hyphenate?: Hyphenator;
}

/** A stretch of one line drawn with one face; `x` is from the box's left edge. */
export interface PlacedRun {
  face: FontFace;
  text: string;
  x: number;
  /** The run's text as it reads, where it prints other characters (mirrored brackets, right to left). */
  reads?: string;
}

export interface PlacedLine {
  /** Baseline, from the box's top edge. */
  baseline: number;
  runs: PlacedRun[];
  /** The line starts a list item: its first run is the item's bullet alone (tagged as its label). */
  bullet?: true;
  /** The line ends its paragraph (a newline, or the end of the text). */
  endsParagraph?: true;
}

/** How a text came out: at its size, shrunk to fit (copyfit), or too long even at its smallest. */
export type FitStatus = 'fits' | 'shrunk' | 'overflow';

/** A fitted text, ready to draw. */
export interface TextItem {
  kind: 'text';
  name: string;
  box: Box;
  color: Color;
  size: number;
  lines: PlacedLine[];
}

/** What fit needs of a compiled text box: where it goes, how it is set, and the field it shows. */
export interface TextBox {
  name: string;
  box: Box;
  color: Color;
  spec: TextSpec;
  /** The field a rep edits it through: fit reports against it. */
  field?: string;
}

/** A text whose words are known but whose lines are not yet: fit's job. */
export interface TextToFit {
  kind: 'fit';
  element: TextBox;
  spans: Span[];
}
