import { deflateSync } from 'node:zlib';
import { OUTPUT_CONDITION, outputProfile } from '../assets/cmyk.js';
import type { PrintSetup } from '../model/color.js';
import { REGISTRATION } from '../pdf/marks.js';
import type { Doc, PdfRef } from '../pdf/pdfkit.js';
import { spotResource } from '../pdf/syntax.js';

/** A PDF name for any ink name: characters outside the regular set written as #xx (ISO 32000 7.3.5). */
function pdfName(name: string): string {
  return name.replace(/[^!-~]|[#()<>[\]{}/%]/g, (c) => `#${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Writes a document's print colour set-up once, into the shared resources and the catalog: every
 * spot ink's Separation colour space (tints from 0 to 1 along its CMYK alternate), the registration
 * colour when there are marks, and for CMYK documents the output intent with its ICC profile, of
 * the subtype its standard names (`GTS_PDFA1` for PDF/A).
 */
export function setUpColor(
  doc: Doc,
  resources: PdfRef,
  print: PrintSetup,
  intent: 'GTS_PDFX' | 'GTS_PDFA1' = 'GTS_PDFX',
): void {
  const separation = (ink: string, alternate: number[]) => {
    const tint = doc.ref({ FunctionType: 2, Domain: [0, 1], C0: [0, 0, 0, 0], C1: alternate, N: 1 });
    tint.end();
    return ['Separation', pdfName(ink), 'DeviceCMYK', tint];
  };
  const spaces: Record<string, unknown> = {};
  for (const spot of print.spots) spaces[spotResource(spot)] = separation(spot.ink, spot.alternate);
  if (print.marks) spaces[REGISTRATION] = separation('All', [1, 1, 1, 1]);
  if (Object.keys(spaces).length > 0) resources.data.ColorSpace = spaces;
  if (print.colorSpace !== 'cmyk') return;
  const profile = doc.ref({ N: 4, Filter: 'FlateDecode' });
  profile.end(deflateSync(outputProfile()));
  const outputIntent = doc.ref({
    Type: 'OutputIntent',
    S: intent,
    OutputCondition: new String(OUTPUT_CONDITION.info),
    OutputConditionIdentifier: new String(OUTPUT_CONDITION.identifier),
    RegistryName: new String(OUTPUT_CONDITION.registry),
    Info: new String(OUTPUT_CONDITION.info),
    DestOutputProfile: profile,
  });
  outputIntent.end();
  doc._root.data.OutputIntents = [outputIntent];
  const info = doc.info as Record<string, unknown>;
  info.PlatenColorSpace = 'CMYK';
  info.PlatenOutputCondition = OUTPUT_CONDITION.identifier;
}
