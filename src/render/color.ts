import { deflateSync } from 'node:zlib';
import { OUTPUT_CONDITION, outputProfile } from '../assets/cmyk.js';
import type { Color, PrintSetup, SpotInk } from '../template/model.js';
import { REGISTRATION } from '../pdf/marks.js';
import type { Doc, PdfRef } from '../pdf/pdfkit.js';
import { num } from '../pdf/syntax.js';

export { num };

/** The colour operator: `rg`/`k` for fill, `RG`/`K` for stroke; a spot ink's tint through its colour space. */
export function colorOp(color: Color, target: 'fill' | 'stroke'): string {
  const values = color.values.map(num).join(' ');
  const fill = target === 'fill';
  if (color.space === 'rgb') return `${values} ${fill ? 'rg' : 'RG'}`;
  if (color.space === 'cmyk') return `${values} ${fill ? 'k' : 'K'}`;
  return `/${spotResource(color.spot)} ${fill ? 'cs' : 'CS'} ${values} ${fill ? 'scn' : 'SCN'}`;
}

/** The shared resource name of a spot ink's colour space (palette keys are plain identifiers). */
function spotResource(spot: SpotInk): string {
  return `CS${spot.key}`;
}

/** A PDF name for any ink name: characters outside the regular set written as #xx (ISO 32000 7.3.5). */
function pdfName(name: string): string {
  return name.replace(/[^!-~]|[#()<>[\]{}/%]/g, (c) => `#${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Writes a document's print colour set-up once, into the shared resources and the catalog: every
 * spot ink's Separation colour space (tints from 0 to 1 along its CMYK alternate), the registration
 * colour when there are marks, and for CMYK documents the output intent with its ICC profile.
 */
export function setUpColor(doc: Doc, resources: PdfRef, print: PrintSetup): void {
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
  const intent = doc.ref({
    Type: 'OutputIntent',
    S: 'GTS_PDFX',
    OutputCondition: new String(OUTPUT_CONDITION.info),
    OutputConditionIdentifier: new String(OUTPUT_CONDITION.identifier),
    RegistryName: new String(OUTPUT_CONDITION.registry),
    Info: new String(OUTPUT_CONDITION.info),
    DestOutputProfile: profile,
  });
  intent.end();
  doc._root.data.OutputIntents = [intent];
  const info = doc.info as Record<string, unknown>;
  info.PlatenColorSpace = 'CMYK';
  info.PlatenOutputCondition = OUTPUT_CONDITION.identifier;
}
