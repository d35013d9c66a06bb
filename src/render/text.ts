import type { FontFace } from '../assets/fonts.js';
import type { PlacedLine } from '../layout/fit.js';
import type { Color } from '../template/model.js';
import { colorOp, num } from './color.js';
import type { PdfEmbeddedFont } from '../pdf/pdfkit.js';

/**
 * Content-stream text: runs placed exactly where fit put them. The page's coordinate system is
 * y-down (pdfkit flips it), so the text matrix flips glyphs back upright. Glyph encoding (and so
 * font subsetting) is pdfkit's; the TJ kerning follows pdfkit's own _fragment.
 */
export class TextOps {
  private readonly out: string[] = [];
  private font: PdfEmbeddedFont | null = null;

  constructor(
    color: Color,
    private readonly size: number,
    private readonly fontFor: (face: FontFace) => PdfEmbeddedFont,
  ) {
    this.out.push('BT', colorOp(color, 'fill'));
  }

  /** Adds a line whose runs start at `x0` (run offsets are added) on the given baseline. */
  line(line: PlacedLine, x0: number, baseline: number): this {
    const scale = this.size / 1000;
    for (const run of line.runs) {
      if (run.text === '') continue;
      const font = this.fontFor(run.face);
      if (font !== this.font) {
        this.out.push(`/${font.id} ${num(this.size)} Tf`);
        this.font = font;
      }
      let x = x0 + run.x;
      this.out.push(`1 0 0 -1 ${num(x)} ${num(baseline)} Tm`);
      const [encoded, positions] = font.encode(run.text);
      let segment: string[] = [];
      let commands: string[] = [];
      const flush = () => {
        if (segment.length) commands.push(`<${segment.join('')}>`);
        segment = [];
        if (commands.length) this.out.push(`[${commands.join(' ')}] TJ`);
        commands = [];
      };
      for (let i = 0; i < encoded.length; i++) {
        const pos = positions[i]!;
        if (pos.xOffset || pos.yOffset) {
          // Marks and other positioned glyphs: place this one glyph on its own.
          flush();
          this.out.push(`1 0 0 -1 ${num(x + pos.xOffset * scale)} ${num(baseline - pos.yOffset * scale)} Tm`);
          this.out.push(`<${encoded[i]}> Tj`);
          this.out.push(`1 0 0 -1 ${num(x + pos.xAdvance * scale)} ${num(baseline)} Tm`);
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
    return this;
  }

  end(): string {
    this.out.push('ET');
    return this.out.join('\n');
  }
}
