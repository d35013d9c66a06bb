/**
 * Text from a list, as the rejected-rows report and problem messages echo it: every control
 * character written as an escape a person can read (`\n`, `\u0000`), never raw. A raw one would
 * break the report's lines in a text editor, end a C string, or (a bidirectional override) reorder
 * what a spreadsheet shows.
 */

const INVISIBLE = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\p{Cs}]/gu;
const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Control characters (C0, DEL, C1), bidirectional controls, line and paragraph separators, and lone
 * surrogates (which UTF-8 would write as U+FFFD) escaped; everything else as it is.
 */
export function visible(text: string): string {
  return text.replace(
    INVISIBLE,
    (char) => SHORT[char] ?? `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/** A cell or header in a message: in double quotes, made visible. */
export function quoted(text: string): string {
  return `"${visible(text)}"`;
}
