/**
 * Right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, …): fit lays out text that has any with
 * the Unicode bidirectional algorithm (bidi-js), and text without any skips it.
 */

/**
 * Every code point of bidi class R or AL (Unicode 14 DerivedBidiClass.txt), including the unassigned
 * ones in the blocks Unicode reserves for right-to-left scripts. Marks (NSM) and Arabic digits (AN)
 * are left out: they are not strong, and no word is written with them alone.
 */
const RIGHT_TO_LEFT =
  /[\u0590\u05BE\u05C0\u05C3\u05C6\u05C8-\u05FF\u0608\u060B\u060D\u061B-\u064A\u066D-\u066F\u0671-\u06D5\u06E5\u06E6\u06EE\u06EF\u06FA-\u0710\u0712-\u072F\u074B-\u07A5\u07B1-\u07EA\u07F4\u07F5\u07FA-\u07FC\u07FE-\u0815\u081A\u0824\u0828\u082E-\u0858\u085C-\u088F\u0892-\u0897\u08A0-\u08C9\u200F\uFB1D\uFB1F-\uFB28\uFB2A-\uFD3D\uFD50-\uFDCE\uFDF0-\uFDFC\uFE70-\uFEFE\u{10800}-\u{1091E}\u{10920}-\u{10A00}\u{10A04}\u{10A07}-\u{10A0B}\u{10A10}-\u{10A37}\u{10A3B}-\u{10A3E}\u{10A40}-\u{10AE4}\u{10AE7}-\u{10B38}\u{10B40}-\u{10D23}\u{10D28}-\u{10D2F}\u{10D3A}-\u{10E5F}\u{10E7F}-\u{10EAA}\u{10EAD}-\u{10F45}\u{10F51}-\u{10F81}\u{10F86}-\u{10FFF}\u{1E800}-\u{1E8CF}\u{1E8D7}-\u{1E943}\u{1E94B}-\u{1EEEF}\u{1EEF2}-\u{1EFFF}]/u;

/** Whether text has a right-to-left character: one scan, no backtracking (a batch tests every value). */
export function hasRightToLeft(text: string): boolean {
  return RIGHT_TO_LEFT.test(text);
}
