import type { z } from 'zod';
import type { Placement, PreparedImage } from '../assets/images.js';
import type { Problem } from '../errors.js';
import type { Color } from '../model/color.js';
import type { Box } from '../model/geometry.js';
import type { CompiledBase, ItemBase } from '../model/kinds.js';
import type { ColorRef, InputDef } from '../model/manifest.js';
import type { Painter, SvgArt } from '../model/painter.js';
import type { MergeContext, PieceRecord, TextFn } from '../model/record.js';
import type { FontFamily, Hyphenator, TextToFit } from '../model/text.js';

/**
 * The contract of an element kind: everything the pipeline knows about one `type` of the manifest's
 * elements, in one object in the kind's own folder (src/elements/<type>/). The steps never switch
 * on a kind: they call these through the registry (src/elements/registry.ts). Each step hands the
 * kind a narrow context, so a kind imports no step and no PDF library.
 *
 * `Def` is the manifest element as validated, `Compiled` what compile makes of it once per template,
 * `Item` what it draws (plain data, made per record by `merge`; `never` for a kind that draws through
 * another's items, as an address does through text).
 */
export interface ElementKind<
  Schema extends ElementSchema,
  Compiled extends CompiledBase,
  Item extends ItemBase,
  Def extends z.output<Schema> = z.output<Schema>,
> {
  type: Def['type'];
  /** The manifest schema of the element (zod, its keys `.describe()`d for the JSON Schema). */
  schema: Schema;
  /** What designers are shown: the README's table row and the designer's property panel. */
  editor: EditorDescription;
  /**
   * Its part in a tagged PDF when the manifest names none: text is a paragraph (`P`); art (`Figure`)
   * is a figure when it has alt text, decoration otherwise.
   */
  tagRole: 'P' | 'Figure';
  /** Checks of the manifest that need more than the element's schema (fonts, fields declared). */
  check?(def: Def, manifest: ManifestCheck): void;
  /** Notes where package images are drawn, before any is prepared (images are scaled to their uses). */
  place?(def: Def, compile: PlacementContext): Promise<void>;
  /** Compile-time checks and compile; null when it cannot be compiled (its problems are reported). */
  compile(def: Def, compile: CompileContext): Promise<Compiled | null> | Compiled | null;
  /**
   * The item of an element that needs no record (no data, no condition), for its page's static
   * layer, drawn once per document; null when it does read the record.
   */
  staticItem?(el: Compiled, def: Def, compile: CompileContext): Item | null;
  /** Resolves the element for one record: an item, text to fit, several of them, or nothing. */
  merge(el: Compiled, record: RecordContext): Item | TextToFit | (Item | TextToFit)[] | null;
  /** Draws one item through the painter. */
  draw?(item: Item, painter: Painter): void;
  /**
   * The raster images an item draws: a screen preview swaps in smaller copies, a CMYK document
   * converts them before the (synchronous) draw step needs them.
   */
  images?(item: Item): DrawnImage[];
  /** What preflight finds in one placed item (its location is added by the preflight step). */
  preflight?(item: Item, preflight: PreflightContext): ItemFinding | null;
  /** Whether the item is RGB (preflight reports RGB left in a CMYK document). */
  rgb?(item: Item, preflight: PreflightContext): boolean;
  /**
   * The area around an item that nothing else may print in (a barcode's quiet zone), with what it
   * says of itself and the names of the element's own items, which may.
   */
  clearZone?(item: Item): ClearZone;
}

export interface ClearZone {
  box: Box;
  /** What the zone is, for people: "the clear zone of the Intelligent Mail barcode (…)". */
  what: string;
  own: readonly string[];
}

/** A raster image an item draws, and whether it stays RGB in a CMYK document. */
export interface DrawnImage {
  image: PreparedImage;
  keepRgb?: boolean;
}

/** An element's manifest schema: a strict object told apart from the others by its `type`. */
export type ElementSchema = z.ZodObject<{ type: z.ZodLiteral<string> }, z.core.$strict>;

/** A finding about one item, before the preflight step says where it is. */
export interface ItemFinding {
  /** Errors make the output unfit for press; warnings deserve a look. */
  severity: 'error' | 'warning';
  rule: string;
  message: string;
}

/** What the manifest's own check offers a kind. */
export interface ManifestCheck {
  /** Reports a font the manifest does not declare. */
  font(name: string | undefined, key: string): void;
  /** Whether the manifest declares this field. */
  hasField(name: string): boolean;
  /** Reports a problem at a key of the element (`''`: the element itself). */
  issue(key: string, message: string): void;
}

export interface PlacementContext {
  /** Records that a package image is drawn in a box of this size and fit. */
  place(rel: string, placement: Placement): void;
  /** Every package file a data-chosen path (`images/{{prospect.industry}}.jpg`) can name. */
  candidates(src: string): Promise<string[]>;
  /** The non-empty values the template's sample records give a record path. */
  sampleValues(path: string): string[];
}

/** What the compile step offers a kind: the template's fonts, colours, assets and its problem list. */
export interface CompileContext {
  /** The element's path in the manifest, `pages[0].elements[3]`, under which problems are named. */
  path: string;
  /** The element's name, box and condition, as every compiled element carries them. */
  base: { name: string; box: Box; when?: CompiledBase['when'] };
  colorSpace: 'rgb' | 'cmyk';
  problem(path: string, rule: string, message: string): void;
  /** Compiles template text (Handlebars), checking its paths; null (and a problem) when it is wrong. */
  text(
    source: string,
    path: string,
    emphasis?: boolean,
  ): { render: TextFn; styles: { bold: boolean; italic: boolean } } | null;
  /** A colour by reference (palette name, literal, spot at a tint), converted for the document. */
  color(ref: ColorRef | undefined, path: string, keepRgb?: boolean): Color;
  /**
   * A barcode's colour: in a CMYK document a process colour prints on black ink alone (one plate
   * cannot mis-register), unless its palette entry keeps its inks.
   */
  barcodeColor(ref: ColorRef | undefined, path: string, keepRgb?: boolean): Color;
  /** The element's font family and the fallback chain; empty when the font is missing (a problem already). */
  fonts(name: string | undefined): FontFamily[];
  /**
   * The hyphenator of an element's text: on when the element or else the template says so, in the
   * element's or else the template's language; undefined when off (or a problem when no patterns).
   */
  hyphenator(on: boolean | undefined, lang: string | undefined, path: string): Hyphenator | undefined;
  /** A declared input by record path (`rep.photo`). */
  input(path: string): InputDef | undefined;
  /** Loads and prepares a package image once; undefined (and a problem) when it cannot. */
  image(rel: string, path: string): Promise<PreparedImage | undefined>;
  /** A package image prepared already. */
  asset(rel: string): PreparedImage | undefined;
  /** Loads every package image a data-chosen path can name. */
  candidates(src: string, path: string, hasFallback: boolean): Promise<void>;
  /** SVG art's checked text, or null (and its problems) when it may not be drawn. */
  svg(rel: string, box: { w: number; h: number }, path: string): Promise<string | null>;
}

/** What merge offers a kind for one record. */
export interface RecordContext {
  /** What template text renders against. */
  values: MergeContext;
  /** What a machine-read code (a QR code) renders against: the piece's URL marked as scanned. */
  scanValues: MergeContext;
  record: PieceRecord;
  problem(problem: Problem): void;
  /** An image the record names by an image input's value (an upload, a profile photo). */
  recordImage(ref: string): PreparedImage | undefined;
  /** A package image by path. */
  asset(rel: string): PreparedImage | undefined;
  /** A declared input by record path (`rep.photo`). */
  input(path: string): InputDef | undefined;
  /** Notes the image an image input resolved to: the record's hash names it by content. */
  usedImage(path: string, image: PreparedImage): void;
}

/** What preflight offers a kind. */
export interface PreflightContext {
  cmyk: boolean;
  /** Text smaller than this (points) is hard to print cleanly and to read. */
  minTextSize: number;
  /** A finding about an image's effective resolution at its placed size, or null if it is fine. */
  resolution(ppi: number, what: string): ItemFinding | null;
  /** Whether SVG art is drawn live (gradients, transparency, images), its colours as written. */
  drawnLive(art: SvgArt): boolean;
}

// ------------------------------------------------------------------------------------------ editor

/** How a designer shows a kind: its name, what it is for, and its properties in groups. */
export interface EditorDescription {
  /** The kind's name for people, e.g. "Text". */
  label: string;
  /** The README's description of the kind's keys (the element table). */
  summary: string;
  properties: EditorProperty[];
}

export interface EditorProperty {
  /** The manifest key, dotted for nested ones (`lines.city`). */
  key: string;
  label: string;
  /** The panel section it sits in. */
  group: 'Content' | 'Position' | 'Type' | 'Colour' | 'Stroke' | 'Image' | 'Barcode' | 'Accessibility';
  /**
   * The control: `template` is Handlebars text that may read record values; `length` is in points
   * (or `12mm`, `0.5in`); `color` a palette name or value; `font` a declared font; `field` a
   * declared field; `asset` a package file; `input` an image input's record path; `condition` a
   * test of a record value (`when`).
   */
  control:
    | 'template'
    | 'condition'
    | 'text'
    | 'number'
    | 'length'
    | 'color'
    | 'font'
    | 'field'
    | 'asset'
    | 'input'
    | 'choice'
    | 'boolean';
  unit?: 'pt' | '%' | '×';
  choices?: readonly string[];
  /** The value may come from the record (Handlebars, or a bound field or input): the designer shows it as bindable. */
  bindable?: boolean;
  required?: boolean;
}
