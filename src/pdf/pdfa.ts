import type { PdfAStandard } from '../model/manifest.js';
import type { Doc, PdfRef } from './pdfkit.js';

/**
 * PDF/A, for pieces meant to be emailed or archived (a template's `output.standard`): ISO 19005-2
 * level B (PDF/A-2b), or ISO 19005-1 level B (PDF/A-1b), the one Apache PDFBox Preflight checks.
 * pdfkit knows both (its `subset` option): it writes `pdfaid:part` and `pdfaid:conformance` in the
 * XMP, a `GTS_PDFA1` output intent, and for part 1 each subset font's CIDSet (ISO 19005-1, 6.3.5).
 * What else the standards ask of our output is kept by the draw step (render/document.ts).
 */
/**
 * pdfkit's document options for a standard: PDF/A-1 is PDF 1.4 (ISO 19005-1, 5.1), PDF/A-2 is
 * based on PDF 1.7 (ISO 19005-2, 5).
 */
export function pdfaOptions(standard: PdfAStandard): { pdfVersion: '1.4' | '1.7'; subset: PdfAStandard } {
  return { pdfVersion: standard === 'PDF/A-1b' ? '1.4' : '1.7', subset: standard };
}

interface OutputIntentInternals {
  _root: PdfRef;
  _addColorOutputIntent(): void;
}

/**
 * pdfkit's PDF/A output intent is sRGB, which fits an RGB document. A CMYK document has its press
 * profile's intent already (render/color.ts, made a `GTS_PDFA1` one for PDF/A), which is what its
 * DeviceCMYK means: pdfkit's is then left out. (ISO 19005-1, 6.2.2 would allow both, sharing one
 * profile, but PDFBox Preflight refuses any intent that is not `GTS_PDFA1`.)
 */
export function keepPressIntent(doc: Doc): void {
  const internals = doc as unknown as OutputIntentInternals;
  if (internals._root.data.OutputIntents) internals._addColorOutputIntent = () => undefined;
}
