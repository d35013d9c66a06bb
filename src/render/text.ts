import type { FontFace } from '../assets/fonts.js';
import type { PlacedLine } from '../model/text.js';
import type { Color } from '../model/color.js';
import { colorOp, num, pdfHexText } from '../pdf/syntax.js';
import { hasRightToLeft } from '../text/right-to-left.js';
import type { PdfEmbeddedFont } from '../pdf/pdfkit.js';

type GlyphPositions = ReturnType<PdfEmbeddedFont['encode']>[1];

/**
 * Content-stream text: runs placed exactly where fit put them. The page's coordinate system is
 * y-down (pdfkit flips it), so the text matrix flips glyphs back upright. Glyph encoding (and so
 * font subsetting) is pdfkit's; the TJ kerning follows pdfkit's own _fragment. A right-to-left run's
 * glyphs are shaped in the order they print, right to left (its joined Arabic letters and ligatures
 * have no order of their own): the run is a marked-content span whose ActualText is the run's text
 * as it reads (ISO 32000-1, 14.9.4), which is what copying and screen readers take (PDF/UA-1, 7.2).
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
    for (const run of line.runs) {
      if (run.text === '') continue;
      const font = this.fontFor(run.face);
      if (font !== this.font) {
        this.out.push(`/${font.id} ${num(this.size)} Tf`);
        this.font = font;
      }
      const x = x0 + run.x;
      this.out.push(`1 0 0 -1 ${num(x)} ${num(baseline)} Tm`);
      const [encoded, positions] = font.encode(run.text);
      if (run.reads !== undefined) {
        // Reversed, mirrored neutrals: what they say is the run's ActualText (ISO 32000-1, 14.9.4).
        this.out.push(`/Span <</ActualText ${pdfHexText(run.reads)}>> BDC`);
        this.glyphs(encoded, positions, x, baseline);
        this.out.push('EMC');
        continue;
      }
      if (hasRightToLeft(run.text)) this.logical(encoded, positions, x, baseline);
      else this.glyphs(encoded, positions, x, baseline);
    }
    return this;
  }

  /** Glyphs in the order they print, left to right, with their kerning (pdfkit's _fragment). */
  private glyphs(encoded: string[], positions: GlyphPositions, x0: number, baseline: number): void {
    const scale = this.size / 1000;
    let x = x0;
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

  /**
   * A right-to-left run: fontkit shapes its glyphs in the order they print, right to left; they are
   * written the other way, each at its place, so the content stream holds them in reading order.
   */
  private logical(encoded: string[], positions: GlyphPositions, x0: number, baseline: number): void {
    const scale = this.size / 1000;
    const at: number[] = [];
    let x = x0;
    for (const pos of positions) {
      at.push(x);
      x += pos.xAdvance * scale;
    }
    for (let i = encoded.length - 1; i >= 0; i--) {
      const pos = positions[i]!;
      this.out.push(
        `1 0 0 -1 ${num(at[i]! + pos.xOffset * scale)} ${num(baseline - pos.yOffset * scale)} Tm`,
      );
      this.out.push(`<${encoded[i]}> Tj`);
    }
  }

  end(): string {
    this.out.push('ET');
    return this.out.join('\n');
  }
}
