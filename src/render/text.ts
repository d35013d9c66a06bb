import type { FontFace } from '../assets/fonts.js';
import type { TextItem } from '../template/model.js';
import { colorOp, num } from './color.js';
import type { PdfEmbeddedFont } from './pdfkit-internals.js';

/**
 * Content stream for a fitted text item: one BT…ET block, every run placed where fit put it. The
 * page's coordinate system is y-down (pdfkit flips it), so the text matrix flips glyphs back upright.
 * Glyph encoding (and so font subsetting) is pdfkit's; the TJ kerning follows pdfkit's own _fragment.
 */
export function textOps(item: TextItem, fontFor: (face: FontFace) => PdfEmbeddedFont): string {
  const out: string[] = ['BT', colorOp(item.color, 'fill')];
  let current: PdfEmbeddedFont | null = null;
  const size = item.size;
  const scale = size / 1000;
  for (const line of item.lines) {
    const baseline = item.box.y + line.baseline;
    for (const run of line.runs) {
      if (run.text === '') continue;
      const font = fontFor(run.face);
      if (font !== current) {
        out.push(`/${font.id} ${num(size)} Tf`);
        current = font;
      }
      let x = item.box.x + run.x;
      out.push(`1 0 0 -1 ${num(x)} ${num(baseline)} Tm`);
      const [encoded, positions] = font.encode(run.text);
      let segment: string[] = [];
      let commands: string[] = [];
      const flush = () => {
        if (segment.length) commands.push(`<${segment.join('')}>`);
        segment = [];
        if (commands.length) out.push(`[${commands.join(' ')}] TJ`);
        commands = [];
      };
      for (let i = 0; i < encoded.length; i++) {
        const pos = positions[i]!;
        if (pos.xOffset || pos.yOffset) {
          // Marks and other positioned glyphs: place this one glyph on its own.
          flush();
          out.push(`1 0 0 -1 ${num(x + pos.xOffset * scale)} ${num(baseline - pos.yOffset * scale)} Tm`);
          out.push(`<${encoded[i]}> Tj`);
          out.push(`1 0 0 -1 ${num(x + pos.xAdvance * scale)} ${num(baseline)} Tm`);
        } else {
          segment.push(encoded[i]!);
          const kern = pos.xAdvance - pos.advanceWidth;
          if (kern !== 0) {
            commands.push(`<${segment.join('')}> ${num(-kern)}`);
            segment = [];
          }
        }
        x += pos.xAdvance * scale;
      }
      flush();
    }
  }
  out.push('ET');
  return out.join('\n');
}
