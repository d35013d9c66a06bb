import type { FittedPiece } from '../layout/piece.js';
import { svgDrawnLive } from '../render/document.js';
import type { ElementDef } from '../template/manifest.js';
import type { Box, Color, CompiledTemplate, DrawItem, StaticLayer } from '../template/model.js';
import { type Finding, MIN_TEXT_SIZE, resolutionFinding } from './findings.js';

/**
 * Preflight of a fitted piece, where every element is known by name: images' effective resolution at
 * their placed size, text below the minimum size, content reaching into the bleed that the template
 * did not mark `bleeds`, and RGB left in a CMYK document. (Fonts are always embedded by the draw
 * step; an address outside its zone is a compile error.)
 */
export function preflightPiece(compiled: CompiledTemplate, piece: FittedPiece, name: string): Finding[] {
  const defs = new Map<string, ElementDef>();
  for (const page of compiled.manifest.pages) for (const el of page.elements) defs.set(el.name, el);
  const cmyk = compiled.print.colorSpace === 'cmyk';
  const { trimWidth, trimHeight } = compiled.page;
  const findings: Finding[] = [];
  piece.pages.forEach((items, index) => {
    const flat = items.flatMap((item) => (item.kind === 'static' ? item.items : [item]));
    for (const item of flat as Exclude<DrawItem, StaticLayer>[]) {
      const where = { piece: name, page: index + 1, element: item.name };
      const add = (severity: Finding['severity'], rule: string, message: string) =>
        findings.push({ ...where, severity, rule, message });
      if (item.kind === 'image') {
        const { image, box } = item;
        const scale = (item.fit === 'cover' ? Math.max : Math.min)(box.w / image.width, box.h / image.height);
        const low = resolutionFinding(where, 72 / scale, `the image (${image.width}×${image.height} px)`);
        if (low) findings.push(low);
      }
      if (item.kind === 'text' && item.size < MIN_TEXT_SIZE)
        add('warning', 'small_text', `text set at ${item.size} pt, under ${MIN_TEXT_SIZE} pt`);
      const def = defs.get(item.name);
      if (def && !def.bleeds && outsideTrim(item.box, trimWidth, trimHeight))
        add('warning', 'in_bleed', 'reaches past the trim into the bleed without `bleeds: true`');
      if (cmyk && isRgb(item)) add('warning', 'rgb_in_cmyk', 'left RGB in a CMYK document');
    }
  });
  return findings;
}

function outsideTrim(box: Box, width: number, height: number): boolean {
  const e = 0.01;
  return box.x < -e || box.y < -e || box.x + box.w > width + e || box.y + box.h > height + e;
}

function isRgb(item: Exclude<DrawItem, StaticLayer>): boolean {
  const rgb = (color: Color | undefined) => color?.space === 'rgb';
  switch (item.kind) {
    case 'image':
      return item.keepRgb === true;
    case 'svg':
      return !item.cmyk || svgDrawnLive(item);
    case 'rect':
    case 'ellipse':
    case 'line':
      return rgb(item.fill) || rgb(item.stroke);
    default:
      return rgb(item.color);
  }
}
