import type { z } from 'zod';
import type { PreparedImage } from '../assets/images.js';
import type { FontFamily, PlacedLine, TextSpec } from '../layout/fit.js';
import type { Condition, InputDef, Manifest } from './manifest.js';
import type { TextFn } from './handlebars.js';
import type { PieceRecord } from './record-schema.js';

/**
 * The data the pipeline passes along: what compile produces once per template version, and the
 * draw items that merge and fit produce per record. Plain data: no pdfkit, no Handlebars objects
 * beyond the compiled render functions.
 */

/** Components 0..1. */
export type Color =
  | { space: 'rgb'; values: [number, number, number] }
  | { space: 'cmyk'; values: [number, number, number, number] };

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
export type DrawItem = TextItem | ImageItem | ShapeItem | SvgItem | QrItem | StaticLayer;

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
}
export interface CompiledQr extends CompiledBase {
  kind: 'qr';
  render: TextFn;
  color: Color;
  errorCorrection: QrItem['errorCorrection'];
}
/** Shapes and SVG art are fixed; with a `when` they are drawn per record instead of in a static layer. */
export interface CompiledFixed extends CompiledBase {
  kind: 'fixed';
  item: ShapeItem | SvgItem;
}
export type CompiledElement = CompiledText | CompiledImage | CompiledQr | CompiledFixed;

export interface CompiledPage {
  name: string;
  /** In z-order: static layers interleaved with per-record elements. */
  layers: (StaticLayer | CompiledElement)[];
}

export interface CompiledTemplate {
  id: string;
  version: number;
  name: string;
  dir: string;
  manifest: Manifest;
  page: PageGeometry;
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
