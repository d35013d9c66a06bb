import { beforeAll, describe, expect, it } from 'vitest';
import type { FontFace } from '../../src/assets/fonts.js';
import type { FontFamily, PlacedLine, Span, TextSpec } from '../../src/model/text.js';
import { type FitResult, fitText } from '../../src/text/fit.js';
import { hyphenatorFor } from '../../src/text/hyphenate.js';
import { loadFamilies } from '../support/fonts.js';

let body: FontFamily;
let dejavu: FontFamily;
let headline: FontFamily;
beforeAll(async () => {
  ({ body, dejavu, headline } = await loadFamilies());
});

const spec = (overrides: Partial<TextSpec> = {}): TextSpec => ({
  width: 200,
  height: 24,
  size: 12,
  lineHeight: 1.2,
  align: 'left',
  valign: 'top',
  fonts: [body, dejavu],
  ...overrides,
});

const plain = (text: string): Span[] => [{ text, bold: false, italic: false }];

/** Text of each line, runs joined. */
const lineTexts = (result: FitResult): string[] =>
  result.lines.map((l) => l.runs.map((r) => r.text).join(''));

/** Where a line's last run ends, measured with the face that draws it. */
function lineEnd(line: PlacedLine, size: number): number {
  const last = line.runs.at(-1);
  if (!last) return 0;
  return last.x + last.face.width(last.text) * size;
}

function lineStart(line: PlacedLine): number {
  return line.runs[0]?.x ?? 0;
}

/** Words of filler copy, to build texts of known length. */
const WORDS =
  'copy that runs on across the box until it needs another line and then one more after that to see where fitting stops working for us today'.split(
    ' ',
  );

describe('fitText: sizes', () => {
  it('fits at the preferred size when the text fits', () => {
    const result = fitText(plain('Hello world'), spec({ minSize: 8 }));
    expect(result.status).toBe('fits');
    expect(result.size).toBe(12);
    expect(lineTexts(result)).toEqual(['Hello world']);
    expect(result.textHeight).toBeCloseTo(14.4, 10);
    expect(result.overflow).toBeUndefined();
    expect(result.missing).toEqual([]);
    expect(result.lines[0]?.runs).toHaveLength(1);
    expect(result.lines[0]?.runs[0]?.face).toBe(body.regular);
    expect(result.lines[0]?.runs[0]?.x).toBe(0);
  });

  it('shrinks longer text to the largest quarter-point size that fits', () => {
    const text = 'The quick brown fox jumps over the lazy dog again and again until';
    const box = spec({ minSize: 8 });
    expect(fitText(plain(text), { ...box, minSize: undefined }).status).toBe('overflow');
    const result = fitText(plain(text), box);
    expect(result.status).toBe('shrunk');
    expect(result.size).toBeGreaterThanOrEqual(8);
    expect(result.size).toBeLessThan(12);
    expect(Number.isInteger(result.size * 4)).toBe(true);
    expect(result.textHeight).toBeLessThanOrEqual(box.height + 0.01);
    expect(result.textHeight).toBeCloseTo(result.lines.length * result.size * 1.2, 10);
    expect(result.overflow).toBeUndefined();
    // The largest: a quarter point more does not fit.
    expect(fitText(plain(text), { ...box, size: result.size + 0.25, minSize: undefined }).status).toBe(
      'overflow',
    );
    // …and every line stays inside the box.
    for (const line of result.lines) expect(lineEnd(line, result.size)).toBeLessThanOrEqual(box.width + 0.01);
  });

  it('reports an overflow at minSize with how much is too much', () => {
    const text = WORDS.join(' ');
    const result = fitText(plain(text), spec({ minSize: 8 }));
    expect(result.status).toBe('overflow');
    expect(result.size).toBe(8);
    expect(result.overflow?.points).toBeGreaterThan(0);
    expect(result.overflow?.points).toBeCloseTo(result.textHeight - 24, 2);
    expect(result.overflow?.chars).toBeGreaterThan(0);
    // All the text is still laid out, so a preview can show what overflows.
    expect(lineTexts(result).join(' ')).toBe(text);
  });

  it('overflows at the preferred size when there is no minSize', () => {
    const result = fitText(plain(WORDS.join(' ')), spec());
    expect(result.status).toBe('overflow');
    expect(result.size).toBe(12);
    expect(result.overflow?.points).toBeCloseTo(result.textHeight - 24, 2);
  });

  it('estimates the characters to cut close to what was added', () => {
    const box = spec({ width: 150, height: 30, size: 10 });
    // The longest prefix of words that fits (two lines at 10 pt).
    let kept = 1;
    while (kept < WORDS.length && fitText(plain(WORDS.slice(0, kept + 1).join(' ')), box).status === 'fits')
      kept++;
    expect(kept).toBeLessThan(WORDS.length);
    const base = WORDS.slice(0, kept).join(' ');
    expect(fitText(plain(base), box).status).toBe('fits');

    for (const extraWords of [2, 8, 20]) {
      const extra = ' abcd'.repeat(extraWords);
      const added = extra.length; // characters the rep typed beyond what fits, spaces included
      const result = fitText(plain(base + extra), box);
      expect(result.status).toBe('overflow');
      const chars = result.overflow?.chars ?? 0;
      expect(chars).toBeGreaterThanOrEqual(Math.floor(added * 0.7));
      expect(chars).toBeLessThanOrEqual(Math.ceil(added * 1.3));
    }
  });

  it('estimates the characters to cut within a long unbreakable word (an e-mail, a URL)', () => {
    const box = spec({ width: 100, height: 30, size: 10 });
    const word = (n: number) => 'y'.repeat(n);
    let fitting = 1;
    while (fitting < 500 && fitText(plain(word(fitting + 1)), box).status === 'fits') fitting++;
    expect(fitText(plain(word(fitting)), box).lines).toHaveLength(2);
    const result = fitText(plain(word(fitting + 5)), box);
    expect(result.status).toBe('overflow');
    // 5 characters too many, not the whole word.
    expect(result.overflow?.chars).toBeGreaterThanOrEqual(1);
    expect(result.overflow?.chars).toBeLessThanOrEqual(10);
  });

  it('fits empty text in no lines', () => {
    const result = fitText(plain(''), spec());
    expect(result.status).toBe('fits');
    expect(result.lines).toEqual([]);
    expect(result.textHeight).toBe(0);
  });
});

describe('fitText: line breaking', () => {
  it('breaks lines at hard newlines, keeping empty lines', () => {
    const result = fitText(plain('one\ntwo\n\nfour'), spec({ height: 100 }));
    expect(lineTexts(result)).toEqual(['one', 'two', '', 'four']);
    const baselines = result.lines.map((l) => l.baseline);
    for (let i = 1; i < baselines.length; i++) {
      expect(baselines[i]! - baselines[i - 1]!).toBeCloseTo(12 * 1.2, 10);
    }
    expect(result.textHeight).toBeCloseTo(4 * 12 * 1.2, 10);
  });

  it('drops the space before a newline', () => {
    const result = fitText(plain('one \ntwo'), spec({ height: 100, align: 'right' }));
    expect(lineTexts(result)).toEqual(['one', 'two']);
    expect(lineEnd(result.lines[0]!, 12)).toBeCloseTo(200, 2);
  });

  it('collapses runs of spaces and tabs, and trims both ends', () => {
    const result = fitText(plain('  a   b \t c  '), spec());
    expect(lineTexts(result)).toEqual(['a b c']);
  });

  it('wraps at spaces, never inside words that fit a line', () => {
    const text = WORDS.slice(0, 20).join(' ');
    const result = fitText(plain(text), spec({ height: 200 }));
    expect(result.lines.length).toBeGreaterThan(1);
    const words = new Set(WORDS);
    for (const line of lineTexts(result)) {
      for (const word of line.split(' ')) expect(words.has(word)).toBe(true);
    }
    expect(lineTexts(result).join(' ')).toBe(text);
  });

  it('splits a word too long for the box across lines, each within the width', () => {
    const url = 'https://harbormutual.example/quote/a-very-long-path/that-never-breaks/anywhere?id=HM-10482';
    const box = spec({ width: 100, height: 500 });
    const result = fitText(plain(url), box);
    expect(result.status).toBe('fits');
    expect(result.lines.length).toBeGreaterThanOrEqual(3);
    expect(lineTexts(result).join('')).toBe(url);
    for (const line of result.lines) {
      expect(lineStart(line)).toBe(0);
      expect(lineEnd(line, result.size)).toBeLessThanOrEqual(100 + 0.01);
    }
  });

  it('splits a long word in the middle of a sentence without losing the words around it', () => {
    const url = 'https://example.com/' + 'segment/'.repeat(12);
    const result = fitText(plain(`visit ${url} today`), spec({ width: 120, height: 500 }));
    const lines = lineTexts(result);
    expect(lines[0]).toBe('visit');
    expect(lines.join('').replace(/ /g, '')).toBe(`visit${url}today`);
    expect(lines.at(-1)?.endsWith('today')).toBe(true);
    for (const line of result.lines) expect(lineEnd(line, result.size)).toBeLessThanOrEqual(120 + 0.01);
  });
});

describe('fitText: alignment', () => {
  const paragraph = WORDS.slice(0, 24).join(' ');

  it('right: every line ends at the right edge', () => {
    const result = fitText(plain(paragraph), spec({ height: 200, align: 'right' }));
    expect(result.lines.length).toBeGreaterThan(2);
    for (const line of result.lines) {
      expect(Math.abs(lineEnd(line, 12) - 200)).toBeLessThanOrEqual(0.01);
      expect(lineStart(line)).toBeGreaterThanOrEqual(0);
    }
  });

  it('center: every line has equal margins', () => {
    const result = fitText(plain(paragraph), spec({ height: 200, align: 'center' }));
    for (const line of result.lines) {
      const left = lineStart(line);
      const right = 200 - lineEnd(line, 12);
      expect(left).toBeGreaterThan(0);
      expect(Math.abs(left - right)).toBeLessThanOrEqual(0.01);
    }
  });

  it('left: every line starts at 0', () => {
    const result = fitText(plain(paragraph), spec({ height: 200 }));
    for (const line of result.lines) expect(lineStart(line)).toBe(0);
  });

  it('justify: lines other than the last of a paragraph span the width', () => {
    const text = `${paragraph}\n${WORDS.slice(0, 14).join(' ')}`;
    const result = fitText(plain(text), spec({ height: 300, align: 'justify' }));
    const texts = lineTexts(result);
    const lastOfFirst = texts.findIndex((t) => t.endsWith(WORDS[23]!));
    expect(lastOfFirst).toBeGreaterThan(0);
    result.lines.forEach((line, i) => {
      expect(lineStart(line)).toBe(0);
      const end = lineEnd(line, 12);
      if (i === lastOfFirst || i === result.lines.length - 1) {
        // Paragraph ends stay ragged.
        expect(end).toBeLessThan(200 - 1);
      } else {
        expect(Math.abs(end - 200)).toBeLessThanOrEqual(0.01);
      }
    });
  });

  it('justify: words move apart, each run starting after the previous one ends', () => {
    const result = fitText(plain(paragraph), spec({ height: 200, align: 'justify' }));
    const first = result.lines[0]!;
    expect(first.runs.length).toBeGreaterThan(1);
    for (let i = 1; i < first.runs.length; i++) {
      const prev = first.runs[i - 1]!;
      expect(first.runs[i]!.x).toBeGreaterThanOrEqual(prev.x + prev.face.width(prev.text) * 12 - 0.001);
    }
  });

  it('valign: middle and bottom move the block down by half and all of the free height', () => {
    const box = { height: 100, minSize: undefined };
    const top = fitText(plain('one\ntwo'), spec({ ...box, valign: 'top' }));
    const middle = fitText(plain('one\ntwo'), spec({ ...box, valign: 'middle' }));
    const bottom = fitText(plain('one\ntwo'), spec({ ...box, valign: 'bottom' }));
    const free = 100 - top.textHeight;
    expect(free).toBeCloseTo(100 - 2 * 12 * 1.2, 10);
    top.lines.forEach((line, i) => {
      expect(middle.lines[i]!.baseline - line.baseline).toBeCloseTo(free / 2, 10);
      expect(bottom.lines[i]!.baseline - line.baseline).toBeCloseTo(free, 10);
    });
  });

  it('places the first baseline inside the first line box', () => {
    const result = fitText(plain('Hello'), spec());
    const baseline = result.lines[0]!.baseline;
    expect(baseline).toBeGreaterThan(body.regular.ascent * 12 * 0.5);
    expect(baseline).toBeLessThan(12 * 1.2);
  });
});

describe('fitText: faces', () => {
  it('reports a character no font shows, once, with its code point', () => {
    const result = fitText(plain('Hi 😀 there 😀'), spec({ fonts: [body] }));
    expect(body.regular.hasChar(0x1f600)).toBe(false);
    expect(result.missing).toEqual([{ char: '😀', codePoint: 'U+1F600' }]);
    expect(lineTexts(result)).toEqual(['Hi there']);
  });

  it('pads short code points to four hex digits', () => {
    expect(body.regular.hasChar(0x6f22)).toBe(false);
    expect(dejavu.regular.hasChar(0x6f22)).toBe(false);
    const result = fitText(plain('漢字'), spec());
    expect(result.missing.map((m) => m.codePoint)).toEqual(['U+6F22', 'U+5B57']);
  });

  it('uses the fallback face for a character the primary family lacks', () => {
    const snowman = '☃';
    expect(body.regular.hasChar(0x2603)).toBe(false);
    expect(dejavu.regular.hasChar(0x2603)).toBe(true);
    const result = fitText(plain(`Let it snow ${snowman} today`), spec());
    expect(result.missing).toEqual([]);
    const runs = result.lines[0]!.runs;
    expect(runs.map((r) => [r.text, r.face])).toEqual([
      ['Let it snow ', body.regular],
      [`${snowman} `, dejavu.regular],
      ['today', body.regular],
    ]);
    // Runs follow each other without gaps or overlaps.
    for (let i = 1; i < runs.length; i++) {
      const prev = runs[i - 1]!;
      expect(runs[i]!.x).toBeCloseTo(prev.x + prev.face.width(prev.text) * 12, 6);
    }
  });

  it('keeps a character the primary family has in the primary face', () => {
    expect(body.regular.hasChar('Ω'.codePointAt(0)!)).toBe(true);
    const result = fitText(plain('Ω → ok'), spec());
    expect(result.lines[0]!.runs.map((r) => r.face)).toEqual([body.regular]);
  });

  it('uses the fallback family’s bold face in bold text', () => {
    const result = fitText([{ text: 'snow ☃', bold: true, italic: false }], spec());
    expect(result.lines[0]!.runs.map((r) => r.face)).toEqual([body.bold, dejavu.bold]);
  });

  it('picks the bold, italic and bold italic faces for styled spans', () => {
    const spans: Span[] = [
      { text: 'Plain ', bold: false, italic: false },
      { text: 'bold ', bold: true, italic: false },
      { text: 'italic ', bold: false, italic: true },
      { text: 'both', bold: true, italic: true },
    ];
    const result = fitText(spans, spec({ width: 400 }));
    const runs = result.lines[0]!.runs;
    expect(runs.map((r) => [r.text, r.face])).toEqual([
      ['Plain ', body.regular],
      ['bold ', body.bold],
      ['italic ', body.italic],
      ['both', body.boldItalic],
    ]);
    // Bold is wider than regular for the same word.
    expect(body.bold!.width('bold')).toBeGreaterThan(body.regular.width('bold'));
  });

  it('changes face inside a word without breaking it', () => {
    const spans: Span[] = [
      { text: 'Super', bold: true, italic: false },
      { text: 'market', bold: false, italic: false },
    ];
    const result = fitText(spans, spec());
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]!.runs.map((r) => [r.text, r.face])).toEqual([
      ['Super', body.bold],
      ['market', body.regular],
    ]);
    expect(result.lines[0]!.runs[1]!.x).toBeCloseTo(body.bold!.width('Super') * 12, 6);
  });

  it('falls back to the regular face of a family without bold', () => {
    const result = fitText([{ text: 'Headline', bold: true, italic: false }], spec({ fonts: [headline] }));
    expect(result.lines[0]!.runs[0]!.face).toBe(headline.regular);
  });

  it('falls back from a bold-only family to the fallback family’s bold face', () => {
    // The headline family's one file is Merriweather Bold: its fallback must be bold too.
    expect(headline.regular.hasChar('ό'.codePointAt(0)!)).toBe(false);
    const result = fitText(plain('Hi Χλόη,'), spec({ fonts: [headline, dejavu] }));
    expect(result.lines[0]!.runs.map((r) => [r.text, r.face])).toEqual([
      ['Hi ', headline.regular],
      ['Χλόη,', dejavu.bold],
    ]);
  });

  it('sets a whole word in one face when one face can, though the first family has some letters', () => {
    // Merriweather has Χ and λ but not ό or η: the word is not split between two faces.
    expect(headline.regular.hasChar('Χ'.codePointAt(0)!)).toBe(true);
    expect(headline.regular.hasChar('λ'.codePointAt(0)!)).toBe(true);
    const result = fitText(plain('Χλόη Ωmega'), spec({ fonts: [headline, dejavu] }));
    expect(result.lines[0]!.runs.map((r) => [r.text, r.face])).toEqual([
      ['Χλόη ', dejavu.bold],
      ['Ωmega', headline.regular],
    ]);
  });

  it('measures a single-run line as the sum of its pieces, as drawn', () => {
    const size = 12;
    const result = fitText(plain('Harbor Mutual Agency'), spec({ align: 'right', size }));
    const line = result.lines[0]!;
    expect(line.runs).toHaveLength(1);
    const run = line.runs[0]!;
    const face: FontFace = run.face;
    const pieces = face.width('Harbor ') + face.width('Mutual ') + face.width('Agency');
    // The width right alignment used is what remains left of the run.
    expect((200 - run.x) / size).toBeCloseTo(pieces, 9);
    expect(face.width(run.text)).toBeCloseTo(pieces, 9);
  });
});

describe('fitText: hyphenation', () => {
  const english = () => hyphenatorFor('en-US')!;
  const NAME = 'Wolfeschlegelsteinhausen';

  it('finds break points in the patterns of the language, and after a hyphen a word has', () => {
    expect(english()(NAME)).toEqual([13, 18]);
    expect(hyphenatorFor('de')!(NAME)).toEqual([3, 5, 10, 13, 18, 21]);
    expect(english()('Köhler-Smith')).toEqual([3, 7]);
    // Addresses and numbers are never hyphenated.
    expect(english()('mateo.alvarez@harbormutual.example')).toEqual([]);
    expect(hyphenatorFor('xx')).toBeNull();
    expect(hyphenatorFor('en-GB')).not.toBeNull();
  });

  it('hyphenates a word too long for the line with a visible hyphen, at the preferred size', () => {
    const box = spec({ fonts: [headline, dejavu], width: 250, height: 110, size: 22, minSize: 15 });
    const text = `${NAME}, smooth sailing starts with the right coverage.`;
    const result = fitText(plain(text), { ...box, hyphenate: english() });
    expect(result.status).toBe('fits');
    expect(result.size).toBe(22);
    expect(lineTexts(result)[0]).toBe('Wolfeschlegelstein-');
    expect(lineTexts(result)[1]).toMatch(/^hausen, smooth/);
    for (const line of result.lines) expect(lineEnd(line, 22)).toBeLessThanOrEqual(250 + 0.01);
  });

  it('shrinks a long word whole (the postcard headline at 19 pt) rather than cut it without a hyphen', () => {
    const box = spec({ fonts: [headline, dejavu], width: 250, height: 84, size: 22, minSize: 15 });
    const text = `${NAME}, smooth sailing starts with the right coverage.`;
    for (const hyphenate of [undefined, english()]) {
      const result = fitText(plain(text), { ...box, ...(hyphenate ? { hyphenate } : {}) });
      expect(result.status).toBe('shrunk');
      expect(result.size).toBe(19);
      expect(lineTexts(result)[0]).toBe(`${NAME},`);
    }
  });

  it('hyphenates into the end of a line when the next word does not fit it', () => {
    // Room for "cov-" (cov|er|age) after "Please review your ", not for "cover-".
    const width = body.regular.width('Please review your cov-') * 12 + 1;
    const result = fitText(plain('Please review your coverage today'), {
      ...spec({ width, height: 100 }),
      hyphenate: english(),
    });
    expect(lineTexts(result)).toEqual(['Please review your cov-', 'erage today']);
    for (const line of result.lines) expect(lineEnd(line, 12)).toBeLessThanOrEqual(width + 0.01);
  });

  it('still cuts a word with no break point that fits no line', () => {
    const result = fitText(plain('https://harbormutual.example/review'), {
      ...spec({ width: 60, height: 100 }),
      hyphenate: english(),
    });
    expect(result.lines.length).toBeGreaterThan(1);
    expect(lineTexts(result).join('')).toBe('https://harbormutual.example/review');
  });

  it('keeps copyfit exact with hyphenation: a quarter point more does not fit', () => {
    const box = { ...spec({ width: 120, height: 40, minSize: 6 }), hyphenate: english() };
    const text = 'Comprehensive neighbourhood coverage, independently reviewed annually.';
    const result = fitText(plain(text), box);
    expect(result.status).toBe('shrunk');
    expect(result.textHeight).toBeLessThanOrEqual(40 + 0.01);
    const bigger = fitText(plain(text), { ...box, size: result.size + 0.25, minSize: undefined });
    expect(bigger.status).toBe('overflow');
  });
});

describe('fitText: paragraph styles', () => {
  it('hangs the further lines of a bullet paragraph under its text, not its bullet', () => {
    const text =
      '• Free roof assessment with satellite imagery and a year of bills\nNo bullet here, so nothing hangs at all in this one';
    const result = fitText(plain(text), spec({ width: 150, height: 200 }));
    const lines = lineTexts(result);
    expect(lines[0]).toMatch(/^• Free/);
    const hang = body.regular.width('• ') * 12;
    const bulletLines = result.lines.slice(
      1,
      lines.findIndex((l) => l.startsWith('No bullet')),
    );
    expect(bulletLines.length).toBeGreaterThan(0);
    for (const line of bulletLines) {
      expect(lineStart(line)).toBeCloseTo(hang, 6);
      expect(lineEnd(line, 12)).toBeLessThanOrEqual(150 + 0.01);
    }
    expect(lineStart(result.lines[0]!)).toBe(0);
    for (const line of result.lines.slice(bulletLines.length + 1)) expect(lineStart(line)).toBe(0);
  });

  it('hangs "- " items too, and justifies them within the indented width', () => {
    const text = '- one two three four five six seven eight nine ten eleven twelve\n- end';
    const result = fitText(plain(text), spec({ width: 120, height: 200, align: 'justify' }));
    const hang = body.regular.width('- ') * 12;
    expect(lineStart(result.lines[1]!)).toBeCloseTo(hang, 6);
    expect(lineEnd(result.lines[1]!, 12)).toBeCloseTo(120, 1);
  });

  it('adds paragraph spacing between paragraphs, not after the last, and counts it in copyfit', () => {
    const text = 'First paragraph.\nSecond paragraph.\nThird.';
    const plainFit = fitText(plain(text), spec({ height: 200 }));
    const spaced = fitText(plain(text), spec({ height: 200, paragraphSpacing: 6 }));
    expect(spaced.textHeight).toBeCloseTo(plainFit.textHeight + 12, 6);
    const gaps = spaced.lines.slice(1).map((l, i) => l.baseline - spaced.lines[i]!.baseline);
    expect(gaps).toEqual([14.4 + 6, 14.4 + 6].map((g) => expect.closeTo(g, 6)));
    // Three lines fit in 43.2 pt without spacing; with 12 pt of gaps they shrink.
    const tight = fitText(plain(text), spec({ height: 43.2, paragraphSpacing: 6, minSize: 6 }));
    expect(tight.status).toBe('shrunk');
    expect(tight.textHeight).toBeLessThanOrEqual(43.2 + 0.01);
  });
});

describe('fitText: right to left', () => {
  const rtl = (overrides: Partial<TextSpec> = {}) =>
    spec({ fonts: [dejavu], width: 300, height: 100, align: 'start', ...overrides });
  /** Each run's text and where it starts, left to right as printed. */
  const printed = (result: FitResult, line = 0) =>
    result.lines[line]!.runs.toSorted((a, b) => a.x - b.x)
      .map((r) => r.text.trim())
      .filter((t) => t !== '');

  it('sets a Hebrew paragraph from the right, its words right to left, spaces kept', () => {
    const result = fitText(plain('שלום עולם יפה'), rtl());
    expect(printed(result)).toEqual(['יפה', 'עולם', 'שלום']);
    // Runs stay in reading order (the text layer reads them so), each word with its space.
    expect(result.lines[0]!.runs.map((r) => r.text)).toEqual(['שלום ', 'עולם ', 'יפה']);
    const right = Math.max(...result.lines[0]!.runs.map((r) => r.x + r.face.width(r.text) * 12));
    expect(right).toBeCloseTo(300, 6);
  });

  it('keeps a left-to-right run left to right inside a right-to-left line, and the reverse', () => {
    expect(printed(fitText(plain('שלום Harbor Mutual עולם'), rtl()))).toEqual([
      'עולם',
      'Harbor Mutual',
      'שלום',
    ]);
    const ltr = fitText(plain('Hello שלום עולם world'), rtl());
    expect(printed(ltr)).toEqual(['Hello', 'עולם', 'שלום', 'world']);
    expect(lineStart(ltr.lines[0]!)).toBe(0);
  });

  it('takes the direction an element says, else the first strong letter of each paragraph', () => {
    const forced = fitText(plain('Dana 42'), rtl({ direction: 'rtl' }));
    expect(printed(forced)).toEqual(['Dana 42']);
    expect(Math.max(...forced.lines[0]!.runs.map((r) => r.x + r.face.width(r.text) * 12))).toBeCloseTo(
      300,
      6,
    );
    const mixed = fitText(plain('שלום\nHello'), rtl());
    expect(lineStart(mixed.lines[1]!)).toBe(0);
    expect(lineStart(mixed.lines[0]!)).toBeGreaterThan(200);
  });

  it('wraps right-to-left text in reading order: the first words on the first line', () => {
    const words = 'אחת שתיים שלוש ארבע חמש שש שבע שמונה תשע עשר'.split(' ');
    const result = fitText(plain(words.join(' ')), rtl({ width: 80 }));
    expect(result.lines.length).toBeGreaterThan(1);
    const read = result.lines.flatMap((l) => l.runs.map((r) => r.text.trim()));
    expect(read).toEqual(words);
  });

  it('justifies right-to-left lines: words spread to both edges, none overlapping', () => {
    const words = 'אחת שתיים שלוש ארבע חמש שש שבע שמונה תשע עשר'.split(' ');
    const result = fitText(plain(words.join(' ')), rtl({ width: 120, align: 'justify' }));
    const runs = result.lines[0]!.runs.filter((r) => r.text.trim() !== '').toSorted((a, b) => a.x - b.x);
    expect(runs[0]!.x).toBeCloseTo(0, 6);
    const last = runs.at(-1)!;
    expect(last.x + last.face.width(last.text) * 12).toBeCloseTo(120, 6);
    for (let i = 1; i < runs.length; i++) {
      const prev = runs[i - 1]!;
      expect(runs[i]!.x).toBeGreaterThanOrEqual(prev.x + prev.face.width(prev.text) * 12 - 1e-6);
    }
  });

  it('shapes Arabic: the font lays out joined forms, not the letters alone', () => {
    const word = 'مرحبا';
    const laid = dejavu.regular.font.layout(word).glyphs.map((g) => g.id);
    const alone = [...word].map((c) => dejavu.regular.font.glyphForCodePoint(c.codePointAt(0)!).id).reverse();
    expect(laid).toHaveLength(alone.length);
    expect(laid).not.toEqual(alone);
  });
});

describe('fitText: reuse', () => {
  it("reuses an element's last fit for the same styled text, and fits any other text afresh", () => {
    const element = spec({ minSize: 8 });
    const first = fitText(plain('Dear Ann Lee,'), element);
    expect(fitText(plain('Dear Ann Lee,'), element)).toBe(first);
    // The same characters in another style, or split otherwise, are another text.
    const bold = fitText([{ text: 'Dear Ann Lee,', bold: true, italic: false }], element);
    expect(bold).not.toBe(first);
    expect(bold.lines[0]!.runs[0]!.face).toBe(body.bold);
    const other = fitText(plain('Dear Bob Stone,'), element);
    expect(lineTexts(other)).toEqual(['Dear Bob Stone,']);
    // Another element with the same text has its own fit (its own box).
    const narrow = fitText(plain('Dear Bob Stone,'), spec({ width: 60, height: 100 }));
    expect(lineTexts(narrow)).toEqual(['Dear Bob', 'Stone,']);
    const again = fitText(plain('Dear Ann Lee,'), element);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
