import type { Span } from '../model/text.js';
import { BOLD_TOGGLE, ITALIC_TOGGLE } from './handlebars.js';

/**
 * Splits merged text at the template's emphasis markers into styled spans. Each span is sliced from
 * the text, not built a character at a time: this runs for every text of every piece of a drop, and
 * most texts have no marker at all.
 */
export function spansOf(merged: string, uppercase: boolean): Span[] {
  const spans: Span[] = [];
  let bold = false;
  let italic = false;
  let start = 0;
  const flush = (end: number) => {
    if (end === start) return;
    const text = start === 0 && end === merged.length ? merged : merged.slice(start, end);
    spans.push({ text: uppercase ? text.toUpperCase() : text, bold, italic });
  };
  for (let i = nextMarker(merged, 0); i !== -1; i = nextMarker(merged, start)) {
    flush(i);
    if (merged[i] === BOLD_TOGGLE) bold = !bold;
    else italic = !italic;
    start = i + 1;
  }
  flush(merged.length);
  return spans;
}

/** Where the next emphasis marker is from `from`, or -1. */
function nextMarker(text: string, from: number): number {
  const bold = text.indexOf(BOLD_TOGGLE, from);
  const italic = text.indexOf(ITALIC_TOGGLE, from);
  return bold === -1 ? italic : italic === -1 ? bold : Math.min(bold, italic);
}

/** The text of spans without styling: what a fit report or a search of the PDF sees. */
export function plainText(spans: Span[]): string {
  return spans.map((s) => s.text).join('');
}
