import { StandardsDocument } from './document.js';
import { checkPdfVt1 } from './pdfvt.js';
import { checkPdfX1a, checkPdfX4 } from './pdfx.js';
import type { Violation } from './rules.js';

export { formatViolation, RULES, type RuleId, type Violation } from './rules.js';

/**
 * The checker of print standards' machine-checkable rules over a finished PDF: which rules of the
 * standard it names the file breaks (an empty list: none of those this checker knows). It reads the
 * file as it is, apart from whatever wrote it; a file the reader cannot read throws
 * UnreadablePdfError (src/pdf/reader.ts).
 */
export const STANDARDS = {
  'PDF/X-4': checkPdfX4,
  'PDF/X-1a': checkPdfX1a,
  'PDF/VT-1': checkPdfVt1,
} as const satisfies Record<string, (doc: StandardsDocument) => Violation[]>;

export type Standard = keyof typeof STANDARDS;

export function isStandard(name: string): name is Standard {
  return Object.hasOwn(STANDARDS, name);
}

export function checkStandard(bytes: Buffer, standard: Standard): Violation[] {
  return STANDARDS[standard](new StandardsDocument(bytes));
}
