import type { Span } from '../model/text.js';
import { BOLD_TOGGLE, ITALIC_TOGGLE } from './handlebars.js';

/** Splits merged text at the template's emphasis markers into styled spans. */
export function spansOf(merged: string, uppercase: boolean): Span[] {
  const spans: Span[] = [];
  let bold = false;
  let italic = false;
  let text = '';
  const flush = () => {
    if (text) spans.push({ text: uppercase ? text.toUpperCase() : text, bold, italic });
    text = '';
  };
  for (const char of merged) {
    if (char === BOLD_TOGGLE || char === ITALIC_TOGGLE) {
      flush();
      if (char === BOLD_TOGGLE) bold = !bold;
      else italic = !italic;
    } else {
      text += char;
    }
  }
  flush();
  return spans;
}

/** The text of spans without styling: what a fit report or a search of the PDF sees. */
export function plainText(spans: Span[]): string {
  return spans.map((s) => s.text).join('');
}
