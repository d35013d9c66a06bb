import type { PreparedImage } from '../assets/images.js';
import type { DrawItem } from './kinds.js';
import type { PieceRecord } from './record.js';
import type { FitStatus, TextToFit } from './text.js';

/** A piece as it passes from merge to fit to draw: plain data, no PDF objects. */

/** Images a record refers to by its image inputs' values (uploads, profile photos, sample assets). */
export type RecordImages = ReadonlyMap<string, PreparedImage>;

/** A merged piece: every element resolved to concrete content, texts not yet fitted. */
export interface Piece {
  templateId: string;
  version: number;
  record: PieceRecord;
  /** SHA-256 of the canonical record (images by content hash): traces a PDF to its exact inputs. */
  recordHash: string;
  pages: (DrawItem | TextToFit)[][];
}

/** How one text element sits: what the form shows beside a field, and what the API reports. */
export interface FitReportEntry {
  element: string;
  field?: string;
  status: FitStatus;
  size: number;
  preferredSize: number;
  overflow?: { points: number; chars: number };
}

/** A piece ready to draw. */
export interface FittedPiece {
  templateId: string;
  version: number;
  recordHash: string;
  pages: DrawItem[][];
  report: FitReportEntry[];
  /** In a print file: the piece's bookmark title and page label (set by the batch runner). */
  marker?: { title: string; label: string };
}
