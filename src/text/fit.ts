import bidiModule, { type Bidi } from 'bidi-js';
import type { FontFace } from '../assets/fonts.js';
import type {
  FitStatus,
  FontFamily,
  Hyphenator,
  PlacedLine,
  PlacedRun,
  Span,
  TextSpec,
} from '../model/text.js';
import { hasRightToLeft } from './right-to-left.js';

/**
 * Text fitting: how a block of styled text sits in its box. Pure functions over font metrics; no
 * PDF here. The renderer draws exactly the lines and runs this returns, and the form asks the same
 * question ("will it fit?") while a rep types.
 */

export interface MissingChar {
  char: string;
  codePoint: string;
}

export interface FitResult {
  status: FitStatus;
  size: number;
  lines: PlacedLine[];
  /** Height the text needs at `size`. */
  textHeight: number;
  /** When status is overflow: how much too tall at the smallest size, and about how many characters to cut. */
  overflow?: { points: number; chars: number };
  /** Characters no font of the chain can show; the text is unusable while any remain. */
  missing: MissingChar[];
}

/** Copyfit steps: sizes are tried on a quarter-point grid, fine enough for the eye, few enough to be fast. */
const SIZE_STEP = 0.25;
/** Rounding slack so text that fits exactly is not rejected for a float's last bit. */
const EPSILON = 0.01;

// ------------------------------------------------------------------------------------- itemization

/** A word's stretch in one face; the word's trailing space, if any, rides on its last piece. */
interface Piece {
  face: FontFace;
  text: string;
  /** Advance at size 1, including the trailing space when there is one. */
  advance: number;
  /** Advance at size 1 without the trailing space (the piece ends its line). */
  advanceAtLineEnd: number;
  bidi: Levels;
}

/**
 * Bidirectional embedding levels (UAX #9) of a piece's characters, of its trailing space, and of its
 * paragraph: odd is right to left. A space between a Hebrew word and a Latin one takes its own level.
 */
interface Levels {
  level: number;
  spaceLevel: number;
  base: number;
}

const LEFT_TO_RIGHT: Levels = { level: 0, spaceLevel: 0, base: 0 };

// bidi-js is CommonJS: its module is the factory its types call the default export.
const bidi = (bidiModule as unknown as () => Bidi)();

interface Word {
  pieces: Piece[];
  /** Line break after this word (a newline in the text). */
  breakAfter: boolean;
  spaceAfter: boolean;
  /** Number of characters, for "too long by about N characters". */
  chars: number;
}

interface Itemized {
  words: Word[];
  missing: MissingChar[];
}

function faceFor(family: FontFamily, bold: boolean, italic: boolean): FontFace {
  if (bold && italic) return family.boldItalic ?? family.bold ?? family.italic ?? family.regular;
  if (bold) return family.bold ?? family.regular;
  if (italic) return family.italic ?? family.regular;
  return family.regular;
}

/**
 * The face of each family for a span's style. The element's own family gives the span's style; a
 * fallback family matches the weight and slant of the face the element's family prints (a headline
 * family whose only file is bold falls back to a bold face, not a regular one).
 */
function facesFor(fonts: FontFamily[], bold: boolean, italic: boolean): FontFace[] {
  const primary = faceFor(fonts[0]!, bold, italic);
  const wantBold = bold || primary.bold;
  const wantItalic = italic || primary.italic;
  return fonts.map((family, i) => (i === 0 ? primary : faceFor(family, wantBold, wantItalic)));
}

/** The face that shows `codePoint`: the first face of the chain that has it, else a family's regular face. */
function pickFace(fonts: FontFamily[], faces: FontFace[], codePoint: number): FontFace | null {
  for (const face of faces) if (face.hasChar(codePoint)) return face;
  for (const family of fonts) if (family.regular.hasChar(codePoint)) return family.regular;
  return null;
}

/** Where text is cut into words: spaces, tabs and newlines. */
function isBreak(codePoint: number): boolean {
  return codePoint === 32 || codePoint === 9 || codePoint === 10;
}

/**
 * For each word, the index in the chain of the first family whose faces (in each character's style)
 * can set the whole word, or -1 when none can (its characters then pick their faces one by one). A
 * word is never set in two faces when one can set it all. Null for a chain of one family: a word's
 * characters then pick that family's face, or its regular face, as pickFace does, with no second pass
 * over the text.
 */
function wordFamilies(spans: Span[], fonts: FontFamily[]): number[] | null {
  if (fonts.length === 1) return null;
  const families: number[] = [];
  /** Whether each family can still set the word being read; reused from word to word. */
  const candidates: boolean[] = fonts.map(() => true);
  let inWord = false;
  for (const span of spans) {
    const faces = facesFor(fonts, span.bold, span.italic);
    const text = span.text;
    for (let i = 0; i < text.length; i++) {
      const codePoint = text.codePointAt(i)!;
      if (codePoint > 0xffff) i += 1;
      if (isBreak(codePoint)) {
        if (inWord) families.push(candidates.indexOf(true));
        inWord = false;
        continue;
      }
      if (!inWord) candidates.fill(true);
      inWord = true;
      for (let f = 0; f < faces.length; f++)
        if (candidates[f] && !faces[f]!.hasChar(codePoint)) candidates[f] = false;
    }
  }
  if (inWord) families.push(candidates.indexOf(true));
  return families;
}

function hex(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Splits styled text into words of single-face pieces. Runs of spaces collapse to one, as in print
 * copy. A piece's text is sliced from its span, not built a character at a time: this runs for every
 * text of every piece of a mail drop, and the strings it makes are the layout cache's keys.
 */
export function itemize(spans: Span[], fonts: FontFamily[], direction?: TextSpec['direction']): Itemized {
  const words: Word[] = [];
  const missing: MissingChar[] = [];
  const seenMissing = new Set<number>();
  let pieces: Piece[] = [];
  /** The open piece: its face, its text from earlier spans, and where it starts in this span. */
  let current: { face: FontFace; text: string; start: number; level: number } | null = null;
  let chars = 0;
  // Levels only where there is right-to-left text (or the element is right to left): most text has
  // none. Each span is tested on its own: testing them joined would copy the whole text first.
  const embedding =
    direction === 'rtl' || spans.some((span) => hasRightToLeft(span.text))
      ? bidi.getEmbeddingLevels(
          spans.map((span) => span.text).join(''),
          direction === 'rtl' ? 'rtl' : direction === 'ltr' ? 'ltr' : 'auto',
        )
      : null;
  /** Where the span being read starts in the whole text, and the paragraph it is in. */
  let spanStart = 0;
  let paragraph = 0;
  const levelAt = (i: number) => embedding?.levels[spanStart + i] ?? 0;
  const baseAt = (i: number) => {
    if (!embedding) return 0;
    while (
      paragraph < embedding.paragraphs.length - 1 &&
      embedding.paragraphs[paragraph]!.end < spanStart + i
    )
      paragraph += 1;
    return embedding.paragraphs[paragraph]?.level ?? 0;
  };
  /** The level of the space that closes the open piece. */
  let spaceLevel = 0;
  /** The family each word is set in (wordFamilies), and the word being read. */
  const families = wordFamilies(spans, fonts);
  let wordIndex = 0;
  let inWord = false;

  const closePiece = (spaceAfter: boolean) => {
    if (!current) return;
    const levels = embedding
      ? {
          level: current.level,
          spaceLevel: spaceAfter ? spaceLevel : current.level,
          base: baseAt(current.start),
        }
      : LEFT_TO_RIGHT;
    pieces.push(makePiece(current.face, current.text, spaceAfter, levels));
    current = null;
  };
  const closeWord = (spaceAfter: boolean, breakAfter: boolean) => {
    closePiece(spaceAfter);
    if (pieces.length > 0) {
      words.push({ pieces, spaceAfter, breakAfter, chars });
    } else if (breakAfter) {
      // An empty line (two newlines in a row) still takes a line.
      words.push({ pieces: [], spaceAfter: false, breakAfter: true, chars: 0 });
    }
    pieces = [];
    chars = 0;
  };

  for (const span of spans) {
    const text = span.text;
    const faces = facesFor(fonts, span.bold, span.italic);
    /** Takes the open piece's characters of this span, up to `end`, into its text. */
    const take = (end: number) => {
      if (current && current.start < end) current.text += text.slice(current.start, end);
      if (current) current.start = end;
    };
    let i = 0;
    while (i < text.length) {
      const codePoint = text.codePointAt(i)!;
      const next = i + (codePoint > 0xffff ? 2 : 1);
      if (isBreak(codePoint) && inWord) {
        inWord = false;
        wordIndex += 1;
      }
      if (codePoint === 10 /* \n */) {
        take(i);
        const last = words.at(-1);
        if (!current && pieces.length === 0 && last?.spaceAfter) {
          // "word \n": the newline ends the previous word's line; its space is not printed.
          last.spaceAfter = false;
          last.breakAfter = true;
          const piece = last.pieces.at(-1)!;
          last.pieces[last.pieces.length - 1] = makePiece(
            piece.face,
            piece.text.trimEnd(),
            false,
            piece.bidi,
          );
        } else {
          closeWord(false, true);
        }
      } else if (codePoint === 32 || codePoint === 9 /* space, tab */) {
        take(i);
        spaceLevel = levelAt(i);
        if (current || pieces.length > 0) closeWord(true, false);
      } else {
        inWord = true;
        const family = families ? families[wordIndex]! : -1;
        const face = family >= 0 ? faces[family]! : pickFace(fonts, faces, codePoint);
        if (!face) {
          take(i);
          if (current) current.start = next; // the character is left out
          if (!seenMissing.has(codePoint)) {
            seenMissing.add(codePoint);
            missing.push({ char: String.fromCodePoint(codePoint), codePoint: hex(codePoint) });
          }
        } else {
          const level = levelAt(i);
          if (current && (current.face !== face || current.level !== level)) {
            take(i);
            closePiece(false);
          }
          current ??= { face, text: '', start: i, level };
          chars += 1;
        }
      }
      i = next;
    }
    take(text.length);
    // The next span's characters start at its own index 0.
    if (current) current.start = 0;
    spanStart += text.length;
  }
  closeWord(false, false);
  // A trailing space at the very end carries nothing.
  const last = words.at(-1);
  if (last) last.spaceAfter = false;
  return { words, missing };
}

// ---------------------------------------------------------------------------------- line breaking

interface Line {
  words: Word[];
  /** Width at size 1 without the trailing space. */
  width: number;
  /** Ends a paragraph (a newline or the end of the text): never justified. */
  endsParagraph: boolean;
  /** Where the line starts, at size 1: a bullet paragraph's lines after its first hang under its text. */
  indent: number;
  /** The line's first word is a bullet: the line starts a list item. */
  bullet: boolean;
}

/** Marks that make a paragraph a list item when it starts with one and a space. */
const BULLETS = new Set(['•', '-', '–', '◦', '▪']);

/** The hanging indent of a paragraph starting with `word`, at size 1: the bullet and its space; else 0. */
function hangingIndent(word: Word): number {
  if (!word.spaceAfter || word.pieces.length !== 1) return 0;
  return BULLETS.has(word.pieces[0]!.text.trimEnd()) ? wordAdvance(word, false) : 0;
}

function wordAdvance(word: Word, atLineEnd: boolean): number {
  let w = 0;
  for (let i = 0; i < word.pieces.length; i++) {
    const piece = word.pieces[i]!;
    w += atLineEnd && i === word.pieces.length - 1 ? piece.advanceAtLineEnd : piece.advance;
  }
  return w;
}

/**
 * Splits a word too long for any line (a URL, an e-mail address) at character boundaries, so it
 * wraps instead of running out of the box.
 */
function splitLongWord(word: Word, maxWidth: number): Word[] {
  const parts: Word[] = [];
  let pieces: Piece[] = [];
  let width = 0;
  let chars = 0;
  const flush = () => {
    if (pieces.length) parts.push({ pieces, spaceAfter: false, breakAfter: false, chars });
    pieces = [];
    width = 0;
    chars = 0;
  };
  for (const piece of word.pieces) {
    let text = '';
    for (const char of piece.text.trimEnd()) {
      const next = piece.face.width(text + char);
      if (width + next > maxWidth + EPSILON && (text || pieces.length)) {
        if (text) pieces.push(makePiece(piece.face, text, false, piece.bidi));
        flush();
        text = '';
      }
      text += char;
      chars += 1;
    }
    if (text) {
      pieces.push(makePiece(piece.face, text, false, piece.bidi));
      width += piece.face.width(text);
    }
  }
  flush();
  const last = parts.at(-1);
  if (last) {
    last.spaceAfter = word.spaceAfter;
    last.breakAfter = word.breakAfter;
    if (word.spaceAfter) {
      const lastPiece = last.pieces.at(-1)!;
      last.pieces[last.pieces.length - 1] = makePiece(lastPiece.face, lastPiece.text, true, lastPiece.bidi);
    }
  }
  return parts;
}

function makePiece(face: FontFace, text: string, spaceAfter = false, bidi: Levels = LEFT_TO_RIGHT): Piece {
  const full = spaceAfter ? `${text} ` : text;
  return { face, text: full, advance: face.width(full), advanceAtLineEnd: face.width(text), bidi };
}

/**
 * Cuts a word after its first `at` characters. The head ends its line: it gets a visible hyphen
 * unless it ends in one already; the tail keeps the word's space and line break.
 */
function cutWord(word: Word, at: number, hyphen: boolean): [Word, Word] {
  const head: Piece[] = [];
  const tail: Piece[] = [];
  let left = at;
  word.pieces.forEach((piece, i) => {
    const spaced = i === word.pieces.length - 1 && word.spaceAfter;
    const chars = [...(spaced ? piece.text.slice(0, -1) : piece.text)];
    const taken = Math.max(0, Math.min(left, chars.length));
    if (taken > 0) head.push(makePiece(piece.face, chars.slice(0, taken).join(''), false, piece.bidi));
    if (taken < chars.length)
      tail.push(makePiece(piece.face, chars.slice(taken).join(''), spaced, piece.bidi));
    left -= chars.length;
  });
  const last = head.at(-1)!;
  if (hyphen && !/[-\u2010]$/.test(last.text))
    head[head.length - 1] = makePiece(last.face, `${last.text}-`, false, last.bidi);
  return [
    { pieces: head, spaceAfter: false, breakAfter: false, chars: at },
    { pieces: tail, spaceAfter: word.spaceAfter, breakAfter: word.breakAfter, chars: word.chars - at },
  ];
}

/** The word cut at its last hyphenation point whose head, hyphen included, fits `room`; or null. */
function hyphenateInto(word: Word, room: number, hyphenate: Hyphenator): [Word, Word] | null {
  let text = '';
  for (const piece of word.pieces) text += piece.text;
  if (word.spaceAfter) text = text.slice(0, -1);
  const points = hyphenate(text);
  for (let i = points.length - 1; i >= 0; i--) {
    const parts = cutWord(word, points[i]!, true);
    if (wordAdvance(parts[0], true) <= room + EPSILON) return parts;
  }
  return null;
}

interface Broken {
  lines: Line[];
  /** Whether a word had to be cut where it has no hyphenation point (a URL, or no hyphenation). */
  split: boolean;
}

/**
 * Greedy line breaking at a given size; widths are at size 1 and compared with width / size. With a
 * hyphenator, a word that does not fit the end of a line is hyphenated into it where it can be.
 */
function breakLines(words: Word[], maxWidth: number, hyphenate: Hyphenator | undefined): Broken {
  const lines: Line[] = [];
  let split = false;
  let line: Word[] = [];
  let width = 0; // including the trailing space of the last word
  let widthAtEnd = 0;
  /** The indent of the paragraph's lines after its first, and of the line being filled. */
  let hang = 0;
  let indent = 0;
  let bullet = false;
  const push = (endsParagraph: boolean) => {
    lines.push({ words: line, width: widthAtEnd, endsParagraph, indent, bullet });
    bullet = false;
    line = [];
    width = 0;
    widthAtEnd = 0;
    if (endsParagraph) hang = 0;
    indent = hang;
  };
  // Words still to place, the next one last (shift() would copy the rest for every word).
  const queue = words.toReversed();
  while (queue.length > 0) {
    const word = queue.pop()!;
    const atEnd = wordAdvance(word, true);
    if (line.length > 0 && width + atEnd > maxWidth - indent + EPSILON) {
      const room = maxWidth - indent - width;
      const parts = hyphenate && word.pieces.length > 0 ? hyphenateInto(word, room, hyphenate) : null;
      if (parts) {
        line.push(parts[0]);
        widthAtEnd = width + wordAdvance(parts[0], true);
        push(false);
        queue.push(parts[1]);
        continue;
      }
      push(false);
    }
    const room = maxWidth - indent;
    if (line.length === 0 && atEnd > room + EPSILON && word.pieces.length > 0) {
      const hyphenated = hyphenate ? hyphenateInto(word, room, hyphenate) : null;
      if (hyphenated) {
        queue.push(hyphenated[1], hyphenated[0]);
        continue;
      }
      const parts = splitLongWord(word, room);
      if (parts.length > 1) {
        split = true;
        queue.push(...parts.reverse());
        continue;
      }
    }
    // A paragraph's first word: a bullet makes the paragraph's further lines hang under its text.
    if (line.length === 0 && (lines.at(-1)?.endsParagraph ?? true)) {
      hang = Math.min(hangingIndent(word), maxWidth / 2);
      bullet = hang > 0;
    }
    line.push(word);
    widthAtEnd = width + atEnd;
    width += wordAdvance(word, false);
    if (word.breakAfter) push(true);
  }
  if (line.length > 0) push(true);
  return { lines, split };
}

// ------------------------------------------------------------------------------------------ fitting

/** Lines of `size × lineHeight`, and `paragraphSpacing` after each paragraph but the last. */
function textHeight(lines: Line[], size: number, spec: TextSpec): number {
  return lines.length * size * spec.lineHeight + paragraphGaps(lines) * (spec.paragraphSpacing ?? 0);
}

function paragraphGaps(lines: Line[]): number {
  let gaps = 0;
  for (let i = 0; i < lines.length - 1; i++) if (lines[i]!.endsParagraph) gaps += 1;
  return gaps;
}

function linesAt(words: Word[], spec: TextSpec, size: number): Broken {
  return breakLines(words, spec.width / size, spec.hyphenate);
}

/**
 * The lines of the words at `size` when they fit there, else null; unless `allowSplit`, they fit only
 * without a word cut where it has no hyphenation point.
 */
function linesIfFit(words: Word[], spec: TextSpec, size: number, allowSplit: boolean): Line[] | null {
  const { lines, split } = linesAt(words, spec, size);
  if (split && !allowSplit) return null;
  return textHeight(lines, size, spec) <= spec.height + EPSILON ? lines : null;
}

/** Largest size on the step grid in [min, max] at which the words fit, with their lines there; or null. */
function largestFittingSize(
  words: Word[],
  spec: TextSpec,
  min: number,
  max: number,
  allowSplit: boolean,
): { size: number; lines: Line[] } | null {
  let lines = linesIfFit(words, spec, min, allowSplit);
  if (!lines) return null;
  let lo = 0; // steps above min; lo always fits, in `lines`
  let hi = Math.floor((max - min) / SIZE_STEP + EPSILON);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const fitted = linesIfFit(words, spec, min + mid * SIZE_STEP, allowSplit);
    if (fitted) {
      lo = mid;
      lines = fitted;
    } else hi = mid - 1;
  }
  return { size: min + lo * SIZE_STEP, lines };
}

/**
 * How many characters must go for the text to fit at `size`: a binary search over whole-word
 * prefixes, then over the characters of the first word that does not fit (a long URL or e-mail).
 */
function charsOver(words: Word[], spec: TextSpec, size: number): number {
  const total = words.reduce((n, w) => n + w.chars, 0);
  const fitsWith = (n: number, extra: Word | null) =>
    linesIfFit(extra ? [...words.slice(0, n), extra] : words.slice(0, n), spec, size, true) !== null;
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsWith(mid, null)) lo = mid;
    else hi = mid - 1;
  }
  let kept = words.slice(0, lo).reduce((n, w) => n + w.chars, 0);
  const next = words[lo];
  if (next) {
    let a = 0;
    let b = next.chars - 1;
    while (a < b) {
      const mid = Math.ceil((a + b) / 2);
      if (fitsWith(lo, truncateWord(next, mid))) a = mid;
      else b = mid - 1;
    }
    kept += a;
  }
  return Math.max(1, total - kept);
}

/** The first `count` characters of a word, as a word. */
function truncateWord(word: Word, count: number): Word {
  const pieces: Piece[] = [];
  let left = count;
  for (const piece of word.pieces) {
    if (left <= 0) break;
    const chars = [...piece.text.trimEnd()];
    const text = chars.slice(0, left).join('');
    left -= chars.length;
    pieces.push(makePiece(piece.face, text, false, piece.bidi));
  }
  return { pieces, spaceAfter: false, breakAfter: false, chars: count };
}

/**
 * The last fit of each spec (each text element), by its styled text. Most texts of a template come
 * out the same for every record of a drop (legal lines, body copy, the rep's contact block), so each
 * is fitted once and its lines are reused, which also lets the renderer know them by identity
 * (document.ts). One entry per element, so nothing here grows with a list. Results are shared: they
 * are never changed after they are made. An element's entry is updated in place: storing a new value
 * in a WeakMap for every record costs the garbage collector far more than the lookup saves.
 */
const lastFits = new WeakMap<TextSpec, { text: string; fit: FitResult | null }>();

/** Fits styled text into a box: preferred size if it fits, else the largest size down to minSize, else overflow. */
export function fitText(spans: Span[], spec: TextSpec): FitResult {
  const text = styledText(spans);
  let last = lastFits.get(spec);
  if (last === undefined) lastFits.set(spec, (last = { text, fit: null }));
  else if (last.fit !== null && last.text === text) return last.fit;
  last.text = text;
  last.fit = fitAfresh(spans, spec);
  return last.fit;
}

/** Spans as one string that tells any two apart: each span's style, length and text. */
function styledText(spans: Span[]): string {
  let text = '';
  for (const span of spans)
    text += `${span.bold ? 'b' : ''}${span.italic ? 'i' : ''}${span.text.length}:${span.text}`;
  return text;
}

/**
 * The size to set at, and the lines there. A word is cut where it has no hyphenation point only when
 * no size down to minSize sets it whole: a long name shrinks the text a little rather than print broken.
 */
function chooseSize(words: Word[], spec: TextSpec): { status: FitStatus; size: number; lines: Line[] } {
  for (const allowSplit of [false, true]) {
    const lines = linesIfFit(words, spec, spec.size, allowSplit);
    if (lines) return { status: 'fits', size: spec.size, lines };
    const shrunk =
      spec.minSize !== undefined
        ? largestFittingSize(words, spec, spec.minSize, spec.size, allowSplit)
        : null;
    if (shrunk !== null) return { status: 'shrunk', ...shrunk };
  }
  const size = spec.minSize ?? spec.size;
  return { status: 'overflow', size, lines: linesAt(words, spec, size).lines };
}

function fitAfresh(spans: Span[], spec: TextSpec): FitResult {
  const { words, missing } = itemize(spans, spec.fonts, spec.direction);
  const { status, size, lines } = chooseSize(words, spec);
  const height = textHeight(lines, size, spec);
  const result: FitResult = {
    status,
    size,
    lines: place(lines, spec, size, height),
    textHeight: height,
    missing,
  };
  if (status === 'overflow') {
    result.overflow = { points: round2(height - spec.height), chars: charsOver(words, spec, size) };
  }
  return result;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

// ---------------------------------------------------------------------------------------- placement

/**
 * Positions lines and runs. Line boxes follow the CSS model: each line is size × lineHeight tall
 * with the primary face's ascent and descent centred in it, so mixed faces share one baseline.
 */
function place(lines: Line[], spec: TextSpec, size: number, height: number): PlacedLine[] {
  const primary = spec.fonts[0]!.regular;
  const lineBox = size * spec.lineHeight;
  const content = (primary.ascent - primary.descent) * size;
  const firstBaseline = (lineBox - content) / 2 + primary.ascent * size;
  const offset =
    spec.valign === 'top' ? 0 : spec.valign === 'middle' ? (spec.height - height) / 2 : spec.height - height;

  let top = offset;
  return lines.map((line) => {
    // Text without right-to-left characters has no levels (itemize): its lines are left to right.
    const bidiLine = line.words.some((word) => word.pieces.some((piece) => piece.bidi !== LEFT_TO_RIGHT));
    const rtl = bidiLine && line.words.some((word) => word.pieces.some((piece) => piece.bidi.base % 2 === 1));
    const align = spec.align === 'start' ? (rtl ? 'right' : 'left') : spec.align;
    const indent = line.indent * size;
    const lineWidth = line.width * size;
    const available = spec.width - indent;
    const spaces = line.words.length - 1;
    const justify = align === 'justify' && !line.endsParagraph && spaces > 0;
    const wordSpacing = justify ? (available - lineWidth) / spaces : 0;
    // A right-to-left paragraph starts at the right: its hanging indent is on the right, and its
    // last justified line ends there.
    let x = rtl ? 0 : indent;
    if (align === 'right' || (rtl && align === 'justify' && !justify))
      x = spec.width - (rtl ? indent : 0) - lineWidth;
    else if (align === 'center') x = (rtl ? 0 : indent) + (available - lineWidth) / 2;
    const baseline = top + firstBaseline;
    top += lineBox + (line.endsParagraph ? (spec.paragraphSpacing ?? 0) : 0);
    const ends = line.endsParagraph ? { endsParagraph: true as const } : {};
    if (bidiLine) {
      const runs = visualRuns(line, size, x, wordSpacing);
      // In reading order, a right-to-left item's bullet is its first run when it is a run alone.
      const bullet = line.bullet && BULLETS.has(runs[0]!.text.trim()) ? { bullet: true as const } : {};
      return { baseline, runs, ...bullet, ...ends };
    }

    const runs: PlacedRun[] = [];
    line.words.forEach((word, w) => {
      const lastWord = w === line.words.length - 1;
      word.pieces.forEach((piece, p) => {
        const atEnd = lastWord && p === word.pieces.length - 1;
        const text = atEnd ? piece.text.trimEnd() : piece.text;
        const prev = runs.at(-1);
        // Consecutive pieces in one face make one run, except where justification moves words apart
        // and after a bullet, which is tagged apart from the item's text.
        if (prev && prev.face === piece.face && !justify && !(line.bullet && w === 1 && p === 0))
          prev.text += text;
        else runs.push({ face: piece.face, text, x });
        x += (atEnd ? piece.advanceAtLineEnd : piece.advance) * size;
      });
      if (!lastWord) x += wordSpacing;
    });
    return { baseline, runs, ...(line.bullet ? { bullet: true as const } : {}), ...ends };
  });
}

/** A stretch of a line at one embedding level in one face: a piece's text, or the space after it. */
interface Atom {
  face: FontFace;
  text: string;
  width: number;
  level: number;
  /** A word space: justification widens it. */
  space: boolean;
  /** Its place in reading order. */
  order: number;
}

/**
 * The runs of a line with right-to-left text, placed where UAX #9 prints them (rule L2): stretches
 * at each level from the highest to the lowest odd one are reversed. A run's text stays in logical
 * order, as the text layer needs it: fontkit lays out right-to-left script backwards (and joins
 * Arabic letters), so a run is drawn as it reads.
 */
function visualRuns(line: Line, size: number, x0: number, wordSpacing: number): PlacedRun[] {
  const atoms: Atom[] = [];
  line.words.forEach((word, w) => {
    const lastWord = w === line.words.length - 1;
    word.pieces.forEach((piece, p) => {
      const spaced = p === word.pieces.length - 1 && word.spaceAfter;
      const text = spaced ? piece.text.slice(0, -1) : piece.text;
      const width = (spaced ? piece.advanceAtLineEnd : piece.advance) * size;
      atoms.push({
        face: piece.face,
        text,
        width,
        level: piece.bidi.level,
        space: false,
        order: atoms.length,
      });
      if (spaced && !lastWord) {
        const space = (piece.advance - piece.advanceAtLineEnd) * size + wordSpacing;
        atoms.push({
          face: piece.face,
          text: ' ',
          width: space,
          level: piece.bidi.spaceLevel,
          space: true,
          order: atoms.length,
        });
      }
    });
  });
  const highest = Math.max(...atoms.map((a) => a.level));
  const lowestOdd = Math.min(...atoms.map((a) => (a.level % 2 === 1 ? a.level : a.level + 1)));
  for (let level = highest; level >= lowestOdd; level--) {
    for (let i = 0; i < atoms.length;) {
      if (atoms[i]!.level < level) {
        i += 1;
        continue;
      }
      let end = i;
      while (end < atoms.length && atoms[end]!.level >= level) end += 1;
      atoms.splice(i, end - i, ...atoms.slice(i, end).reverse());
      i = end;
    }
  }
  const runs: (PlacedRun & { level: number; order: number })[] = [];
  let x = x0;
  for (const atom of atoms) {
    const prev = runs.at(-1);
    // Left-to-right stretches merge into runs; right-to-left words stay runs of their own, drawn in
    // reading order: pdf.js reads each word's letters backwards, and the words in the order drawn.
    if (
      prev &&
      prev.face === atom.face &&
      prev.level === atom.level &&
      atom.level % 2 === 0 &&
      wordSpacing === 0
    ) {
      prev.text += atom.text;
    } else if (
      prev &&
      prev.face === atom.face &&
      prev.level === atom.level &&
      prev.text === ' ' &&
      !atom.space &&
      wordSpacing === 0
    ) {
      // A right-to-left word takes the space after it, printed to its left.
      prev.text = atom.text + prev.text;
    } else {
      runs.push({ face: atom.face, text: atom.text, x, level: atom.level, order: atom.order });
    }
    x += atom.width;
  }
  // Drawn in reading order, each at its place: text extraction that follows the content (pdf.js)
  // reads the words as written.
  runs.sort((a, b) => a.order - b.order);
  return runs.map(({ face, text, x: at, level }) =>
    // Right-to-left neutrals alone (", ", "(") are not laid out backwards by fontkit: reverse them
    // here, and keep how they read.
    level % 2 === 1 && !hasRightToLeft(text)
      ? { face, text: mirrored(text), x: at, reads: text }
      : { face, text, x: at },
  );
}

/** Neutrals set right to left on their own, in printed order: reversed, brackets mirrored ("(" as ")"). */
function mirrored(text: string): string {
  return [...text]
    .reverse()
    .map((char) => bidi.getMirroredCharacter(char) ?? char)
    .join('');
}
