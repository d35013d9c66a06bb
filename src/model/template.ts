import type { z } from 'zod';
import type { PreparedImage } from '../assets/images.js';
import type { PrintSetup } from './color.js';
import type { PageGeometry } from './geometry.js';
import type { CompiledElement, StaticLayer } from './kinds.js';
import type { InputDef, Manifest, Role } from './manifest.js';
import type { PieceRecord, TextFn } from './record.js';
import type { FontFamily } from './text.js';

/**
 * What compile produces once per template version and every later step reads. Plain data: no
 * pdfkit, no Handlebars objects beyond the compiled render functions.
 */

export interface CompiledPage {
  name: string;
  /** In z-order: static layers interleaved with per-record elements. */
  layers: (StaticLayer | CompiledElement)[];
}

/** An element's part in a tagged PDF (manifest `role` and `alt`, defaults applied). */
export interface ElementTag {
  role: Role;
  alt?: string;
  /** The element's own language (BCP 47) when it is not the template's. */
  lang?: string;
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
  /** Where a piece's tracked URL leads (manifest `output.landingUrl`), rendered with the record. */
  landingUrl?: TextFn;
}
