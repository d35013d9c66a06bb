import { createRequire } from 'node:module';
import type { Hyphenator } from '../model/text.js';

/**
 * Hyphenation: where a word may break, from the TeX patterns of its language (Liang's algorithm, the
 * `hyphen` package). Fit breaks there with a visible hyphen when a word does not fit the end of a line.
 */

type HyphenateSync = (text: string, options?: { hyphenChar?: string; minWordLength?: number }) => string;

const require = createRequire(import.meta.url);
const hyphenators = new Map<string, Hyphenator | null>();

/** A mark no word contains, to find the break points in the hyphenated word. */
const MARK = '\u0001';
/** Words with digits or the marks of addresses (e-mail, web, file) are never hyphenated. */
const NOT_A_WORD = /[0-9@/\\:_=+#%&]/u;
/** About 100 bytes each: a bounded cache per language of the distinct words fitted. */
const MAX_CACHED_WORDS = 5_000;

/**
 * The hyphenator of a language (BCP 47, as a template's `lang`): its own patterns (`de-CH-1901`),
 * else those of its shorter tags (`de`); `en` alone is American English. Null when there are none.
 */
export function hyphenatorFor(lang: string): Hyphenator | null {
  const key = lang.toLowerCase();
  let hyphenator = hyphenators.get(key);
  if (hyphenator === undefined) {
    hyphenator = load(key);
    hyphenators.set(key, hyphenator);
  }
  return hyphenator;
}

function load(lang: string): Hyphenator | null {
  const parts = lang.split('-');
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join('-');
    if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(name)) continue;
    let hyphenate: HyphenateSync;
    try {
      hyphenate = (require(`hyphen/${name}`) as { hyphenateSync: HyphenateSync }).hyphenateSync;
    } catch {
      continue;
    }
    return cached((word) => breaks(hyphenate, word));
  }
  return null;
}

function breaks(hyphenate: HyphenateSync, word: string): number[] {
  const offsets: number[] = [];
  const chars = [...word];
  // A hyphen the word already has is a break point that adds no other.
  chars.forEach((char, i) => {
    if ((char === '-' || char === '\u2010') && i > 1 && i < chars.length - 2) offsets.push(i + 1);
  });
  if (!NOT_A_WORD.test(word)) {
    let at = 0;
    for (const char of hyphenate(word, { hyphenChar: MARK })) {
      if (char === MARK) offsets.push(at);
      else at += 1;
    }
  }
  return [...new Set(offsets)].sort((a, b) => a - b);
}

function cached(hyphenator: Hyphenator): Hyphenator {
  const known = new Map<string, number[]>();
  return (word) => {
    let offsets = known.get(word);
    if (!offsets) {
      offsets = hyphenator(word);
      if (known.size >= MAX_CACHED_WORDS) known.clear();
      known.set(word, offsets);
    }
    return offsets;
  };
}
