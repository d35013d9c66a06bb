import type { PreflightContext } from '../elements/kind.js';
import { kindOf } from '../elements/registry.js';
import type { Box } from '../model/geometry.js';
import type { ElementDef, ElementItem } from '../model/kinds.js';
import { isPdfA } from '../model/manifest.js';
import type { SvgArt } from '../model/painter.js';
import type { FittedPiece } from '../model/piece.js';
import type { CompiledTemplate } from '../model/template.js';
import { type Finding, MIN_TEXT_SIZE, resolutionFinding } from './findings.js';

/**
 * Preflight of a fitted piece, where every element is known by name: what each kind checks of its
 * items (images' effective resolution at their placed size, text below the minimum size), content
 * reaching into the bleed that the template did not mark `bleeds`, and RGB left in a CMYK document
 * (an error in a PDF/A one).
 * (Fonts are always embedded by the draw step; an address outside its zone is a compile error.)
 * `drawnLive` is the draw step's answer to whether SVG art keeps its own colours.
 */
export function preflightPiece(
  compiled: CompiledTemplate,
  piece: FittedPiece,
  name: string,
  drawnLive: (art: SvgArt) => boolean,
): Finding[] {
  const defs = new Map<string, ElementDef>();
  for (const page of compiled.manifest.pages) for (const el of page.elements) defs.set(el.name, el);
  const cmyk = compiled.print.colorSpace === 'cmyk';
  const pdfa = isPdfA(compiled.manifest.output?.standard);
  const { standard } = compiled.print;
  const { trimWidth, trimHeight } = compiled.page;
  const findings: Finding[] = [];
  piece.pages.forEach((items, index) => {
    const flat = items.flatMap((item) => (item.kind === 'static' ? item.items : [item]));
    for (const item of flat) {
      const where = { piece: name, page: index + 1, element: item.name };
      const context: PreflightContext = {
        cmyk,
        minTextSize: MIN_TEXT_SIZE,
        resolution: (ppi, what) => resolutionFinding(where, ppi, what),
        drawnLive,
      };
      const add = (severity: Finding['severity'], rule: string, message: string) =>
        findings.push({ ...where, severity, rule, message });
      const kind = kindOf(item.kind);
      const found = kind.preflight?.(item, context);
      if (found) findings.push({ ...where, ...found });
      const def = defs.get(item.name);
      if (def && !def.bleeds && outsideTrim(item.box, trimWidth, trimHeight))
        add('warning', 'in_bleed', 'reaches past the trim into the bleed without `bleeds: true`');
      if (cmyk && kind.rgb?.(item, context)) {
        // PDF/A's colours must be those of its output intent (ISO 19005-1, 6.2.3.3; 19005-2, 6.2.4.3).
        if (pdfa) add('error', 'rgb_in_pdfa', 'left RGB in a CMYK PDF/A document, which allows CMYK alone');
        // What is left RGB is art with gradients or transparency (keepRgb is refused at compile).
        else if (standard)
          add(
            'error',
            'rgb_in_pdfx',
            `has gradients or transparency, which are drawn in RGB, and ${standard} allows no RGB: use art in flat colours`,
          );
        else add('warning', 'rgb_in_cmyk', 'left RGB in a CMYK document');
      }
    }
    findings.push(...clearZoneFindings(flat, { piece: name, page: index + 1 }));
  });
  return findings;
}

/** Items printing in another item's clear zone (a barcode's), each an error naming the zone. */
function clearZoneFindings(items: ElementItem[], where: Pick<Finding, 'piece' | 'page'>): Finding[] {
  const findings: Finding[] = [];
  for (const item of items) {
    const zone = kindOf(item.kind).clearZone?.(item);
    if (!zone) continue;
    for (const other of items) {
      if (zone.own.includes(other.name) || !overlaps(zone.box, other.box)) continue;
      findings.push({
        ...where,
        element: other.name,
        severity: 'error',
        rule: 'clear_zone',
        message: `prints in ${zone.what}: move it out`,
      });
    }
  }
  return findings;
}

/** Whether two boxes share any area, or a rule (a box without width or height) lies inside the other. */
function overlaps(a: Box, b: Box): boolean {
  return spans(a.x, a.w, b.x, b.w) && spans(a.y, a.h, b.y, b.h);
}

function spans(from: number, length: number, otherFrom: number, otherLength: number): boolean {
  if (otherLength === 0) return from < otherFrom && otherFrom < from + length;
  return from < otherFrom + otherLength && otherFrom < from + length;
}

function outsideTrim(box: Box, width: number, height: number): boolean {
  const e = 0.01;
  return box.x < -e || box.y < -e || box.x + box.w > width + e || box.y + box.h > height + e;
}
