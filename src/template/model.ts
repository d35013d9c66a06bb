import type { z } from 'zod';
import type { PreparedImage } from '../assets/images.js';
import type { FontFamily, PlacedLine, TextSpec } from '../layout/fit.js';
import type { Condition, InputDef, Manifest, Role } from './manifest.js';
import type { TextFn } from './handlebars.js';
import type { PieceRecord } from './record-schema.js';

/**
 * The data the pipeline passes along: what compile produces once per template version, and the
 * draw items that merge and fit produce per record. Plain data: no pdfkit, no Handlebars objects
 * beyond the compiled render functions.
 */

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

// ------------------------------------------------------------------------------------ draw items

export interface TextItem {
  kind: 'text';
  name: string;
  box: Box;
  color: Color;
  size: number;
  lines: PlacedLine[];
}
export interface ImageItem {
  kind: 'image';
  name: string;
  box: Box;
  fit: 'cover' | 'contain';
  image: PreparedImage;
  /** Left RGB in a CMYK document (manifest `keepRgb`). */
  keepRgb?: boolean;
}
export interface ShapeItem {
  kind: 'rect' | 'ellipse' | 'line';
  name: string;
  box: Box;
  fill?: Color;
  stroke?: Color;
  strokeWidth: number;
  radius: number;
}
export interface SvgItem {
  kind: 'svg';
  name: string;
  box: Box;
  svg: string;
  /** Its colours are converted to CMYK as it is drawn (a CMYK document, no `keepRgb`). */
  cmyk?: boolean;
}
/** A USPS Intelligent Mail barcode: 65 bars, each F(ull), A(scender), D(escender) or T(racker). */
export interface ImbItem {
  kind: 'imb';
  name: string;
  box: Box;
  bars: string;
  color: Color;
}
export interface QrItem {
  kind: 'qr';
  name: string;
  box: Box;
  content: string;
  color: Color;
  errorCorrection: 'L' | 'M' | 'Q' | 'H';
}
/** Locked, data-independent art: drawn once per document as a Form XObject, placed on every page. */
export interface StaticLayer {
  kind: 'static';
  /** Unique within the template, e.g. `S1`. */
  id: string;
  items: Exclude<DrawItem, StaticLayer>[];
}
export type DrawItem = TextItem | ImageItem | ShapeItem | SvgItem | QrItem | ImbItem | StaticLayer;

// ---------------------------------------------------------------------------- compiled elements

interface CompiledBase {
  name: string;
  box: Box;
  when?: Condition;
}
export interface CompiledText extends CompiledBase {
  kind: 'text';
  field?: string;
  render: TextFn;
  color: Color;
  uppercase: boolean;
  spec: TextSpec;
}
export interface CompiledImage extends CompiledBase {
  kind: 'image';
  fit: 'cover' | 'contain';
  /** Package asset chosen by a (possibly data-dependent) path, or a record input. */
  source: { kind: 'asset'; render: TextFn } | { kind: 'input'; path: string };
  fallback?: PreparedImage;
  keepRgb?: boolean;
}
export interface CompiledQr extends CompiledBase {
  kind: 'qr';
  render: TextFn;
  color: Color;
  errorCorrection: QrItem['errorCorrection'];
}
export interface CompiledImb extends CompiledBase {
  kind: 'imb';
  /** The 20-digit tracking code (barcode id, service type, mailer id, serial) and the routing ZIP. */
  tracking: TextFn;
  routing: TextFn;
  color: Color;
}
/** Shapes and SVG art are fixed; with a `when` they are drawn per record instead of in a static layer. */
export interface CompiledFixed extends CompiledBase {
  kind: 'fixed';
  item: ShapeItem | SvgItem;
}
export type CompiledElement = CompiledText | CompiledImage | CompiledQr | CompiledImb | CompiledFixed;

export interface CompiledPage {
  name: string;
  /** In z-order: static layers interleaved with per-record elements. */
  layers: (StaticLayer | CompiledElement)[];
}

/** An element's part in a tagged PDF (manifest `role` and `alt`, defaults applied). */
export interface ElementTag {
  role: Role;
  alt?: string;
}

export interface CompiledTemplate {
  id: string;
  version: number;
  name: string;
  dir: string;
  manifest: Manifest;
  page: PageGeometry;
  print: PrintSetup;
  /** Tags by element name, for tagged single-piece PDFs; an element not listed is an artifact. */
  tags: ReadonlyMap<string, ElementTag>;
  inputs: {
    rep: Record<string, InputDef>;
    prospect: Record<string, InputDef>;
    fields: Record<string, InputDef>;
  };
  recordSchema: z.ZodType<PieceRecord>;
  pages: CompiledPage[];
  /** Package images by path: static art, data-chosen candidates, fallbacks and sample inputs. */
  assets: Map<string, PreparedImage>;
  /** Every face a piece may use, for registering with a document. */
  fonts: FontFamily[];
  /** Names a piece's PDF in batch output (manifest `output.fileName`); made file-system safe by the caller. */
  fileName?: TextFn;
}
