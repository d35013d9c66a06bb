import { PlatenError, type Problem } from './errors.js';

/**
 * How deep JSON from outside may nest: request bodies, a job's `map` field, a package's
 * template.json. Far beyond any real record, mapping or manifest (a manifest nests about 6 deep), and
 * small enough that code walking a parsed value recursively can never run out of stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of arrays and objects in JSON text, counted over its brackets outside strings:
 * no parse, no recursion, so text nested 100,000 deep costs a scan and nothing more. Works on UTF-8
 * bytes as on a string: no byte of a multi-byte character is a bracket, quote or backslash.
 */
export function jsonDepth(text: string | Uint8Array): number {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** The problem with JSON text nested deeper than MAX_JSON_DEPTH, naming the limit; null when it is not. */
export function jsonDepthProblem(text: string | Uint8Array, path: string): Problem | null {
  if (jsonDepth(text) <= MAX_JSON_DEPTH) return null;
  return {
    path,
    rule: 'max_depth',
    message: `nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} are accepted`,
  };
}

/** Refuses JSON text nested deeper than MAX_JSON_DEPTH (PlatenError `too_deep`), before it is parsed. */
export function checkJsonDepth(text: string | Uint8Array, path: string): void {
  const problem = jsonDepthProblem(text, path);
  if (problem) throw new PlatenError('too_deep', [problem]);
}
