/**
 * Typesetting read back from real PDFs with independent tools: which faces poppler finds (pdffonts),
 * which face draws each run of text (pdf.js), and the text and hyphens as pdftotext reads them.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledTemplate } from '../../src/model/template.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { pdfFonts, pdfText, popplerText, withPdfDocument } from '../support/pdf.js';
import { TEMPLATES_DIR } from '../support/repo.js';

interface SampleRecord {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

/** A sample's record with some values changed. */
function withValues(compiled: CompiledTemplate, change: (record: SampleRecord) => void): SampleRecord {
  const record = structuredClone(samples(compiled)[0]!.record) as SampleRecord;
  change(record);
  return record;
}

async function render(compiled: CompiledTemplate, record: SampleRecord): Promise<Buffer> {
  return renderToBuffer(compiled, [preparePiece(compiled, record, compiled.assets)]);
}

/**
 * Each run of text pdf.js reads on a page, with the font resource that draws it: pdf.js starts a new
 * item wherever the font changes.
 */
async function textRuns(pdf: Buffer, pageNumber: number): Promise<{ text: string; font: string }[]> {
  return withPdfDocument(pdf, async (doc) => {
    const page = await doc.getPage(pageNumber);
    const { items } = await page.getTextContent();
    page.cleanup();
    return items.flatMap((item) =>
      'str' in item && item.str.trim() !== '' ? [{ text: item.str, font: item.fontName }] : [],
    );
  });
}

describe('postcard', () => {
  let compiled: CompiledTemplate;
  beforeAll(async () => {
    compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'postcard-6x4'));
  });

  it('sets Greek in the bold headline in the bold fallback face, one face per word', async () => {
    const pdf = await render(
      compiled,
      withValues(compiled, (r) => {
        r.prospect.firstName = 'Χλόη';
      }),
    );
    const fonts = (await pdfFonts(pdf)).map((f) => f.name.slice(7));
    expect(fonts).toContain('DejaVuSans-Bold');
    expect(fonts).not.toContain('DejaVuSans');
    // The headline's and the greeting's name is one run in one face (Merriweather has Χ and λ, not
    // ό or η): pdf.js starts a new item wherever the font changes.
    for (const page of [1, 2]) {
      const runs = await textRuns(pdf, page);
      const name = runs.filter((r) => r.text.includes('Χλ') || r.text.includes('όη'));
      expect(name.length).toBeGreaterThan(0);
      for (const run of name) expect(run.text).toMatch(/Χλόη[, ]/);
    }
  });

  it('shrinks the headline to set a long first name whole, never cut without a hyphen', async () => {
    const record = withValues(compiled, (r) => {
      r.prospect.firstName = 'Wolfeschlegelsteinhausen';
    });
    const piece = preparePiece(compiled, record, compiled.assets);
    const headline = piece.report.find((e) => e.element === 'coverHeadline')!;
    expect(headline).toMatchObject({ status: 'shrunk', size: 19 });
    const [front] = await popplerText(await renderToBuffer(compiled, [piece]));
    expect(front).toContain('Wolfeschlegelsteinhausen, smooth sailing');
  });
  it('sets a rep name at its 40-character limit on every card, without overflow', () => {
    const name = 'Maximiliana Konstantinopoulou-Whitfield';
    expect(name.length).toBeLessThanOrEqual(40);
    const record = withValues(compiled, (r) => {
      r.rep.name = `${name}X`.slice(0, 40);
    });
    const piece = preparePiece(compiled, record, compiled.assets);
    expect(piece.report.find((e) => e.element === 'signoff')?.status).not.toBe('overflow');
  });

  it('keeps the text left of the divider clear of it: no comma lands on the rule', () => {
    const record = withValues(compiled, (r) => {
      r.rep.name = 'Maximiliana Konstantinopoulou-Whitfield';
      r.prospect.firstName = 'Bartholomew-Alexander';
    });
    const piece = preparePiece(compiled, record, compiled.assets);
    const back = piece.pages[1]!;
    // The rule is static art: its place is the manifest's.
    const divider = compiled.manifest.pages[1]!.elements.find((e) => e.name === 'divider');
    if (divider?.type !== 'line') throw new Error('no divider');
    const rule = divider.x - divider.strokeWidth / 2;
    for (const item of back) {
      if (item.kind !== 'text' || item.box.x >= rule) continue;
      // Only the boxes beside the rule (it runs from y to y + h).
      if (item.box.y >= divider.y + divider.h || item.box.y + item.box.h <= divider.y) continue;
      // The box itself ends clear of the rule, and so does every glyph set in it.
      expect(item.box.x + item.box.w, item.name).toBeLessThanOrEqual(rule - 4);
      for (const line of item.lines)
        for (const run of line.runs)
          expect(item.box.x + run.x + run.face.width(run.text) * item.size).toBeLessThanOrEqual(rule - 4);
    }
  });
});

describe('hyphenation switched on for a template', () => {
  let dir: string;
  let compiled: CompiledTemplate;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-type-'));
    const copy = path.join(dir, 'postcard');
    await cp(path.join(TEMPLATES_DIR, 'postcard-6x4'), copy, { recursive: true });
    const file = path.join(copy, 'template.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...manifest, hyphenate: true, lang: 'de-DE' }));
    compiled = await compileTemplate(copy);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('breaks a long word at a hyphenation point of the language, with a hyphen pdftotext reads', async () => {
    const record = withValues(compiled, (r) => {
      r.fields.message = 'Wir prüfen Ihre Rechtsschutzversicherung gern mit Ihnen.';
    });
    const piece = preparePiece(compiled, record, compiled.assets);
    const message = piece.pages[1]!.find((item) => item.kind === 'text' && item.name === 'message');
    if (message?.kind !== 'text') throw new Error('no message on the back');
    const lines = message.lines.map((l) => l.runs.map((r) => r.text).join(''));
    expect(lines[0]).toMatch(/^Wir prüfen Ihre Rechts\S*-$/);
    const [, back] = await popplerText(await renderToBuffer(compiled, [piece]), ['-layout']);
    // pdftotext -layout keeps each line as printed: the hyphen ends the first line.
    expect(back).toContain(lines[0]);
    expect(lines[0]!.slice(0, -1) + lines[1]).toMatch(/Rechtsschutzversicherung/);
  });
});

describe('hyphenation in a language with no patterns', () => {
  it('is a compile problem naming the element, not silently unhyphenated text', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-type-'));
    try {
      const copy = path.join(dir, 'postcard');
      await cp(path.join(TEMPLATES_DIR, 'postcard-6x4'), copy, { recursive: true });
      const file = path.join(copy, 'template.json');
      const manifest = JSON.parse(await readFile(file, 'utf8')) as { pages: { elements: object[] }[] };
      manifest.pages[1]!.elements = manifest.pages[1]!.elements.map((e) =>
        (e as { name: string }).name === 'message' ? { ...e, hyphenate: true, lang: 'tlh' } : e,
      );
      await writeFile(file, JSON.stringify(manifest));
      const error = (await compileTemplate(copy).catch((e: unknown) => e)) as { problems?: object[] };
      expect(error.problems).toEqual([
        expect.objectContaining({
          path: 'pages[1].elements[6].hyphenate',
          rule: 'no_hyphenation',
          message: 'there are no hyphenation rules for the language "tlh"',
        }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('window letter', () => {
  let compiled: CompiledTemplate;
  beforeAll(async () => {
    compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'letter-window'));
  });

  it('flows its body in one box with even gaps between paragraphs, as pdf.js reads them', async () => {
    for (const note of ['A short note.', 'A longer note. '.repeat(20).trim()]) {
      const record = withValues(compiled, (r) => {
        r.fields.personalNote = note;
      });
      const pdf = await render(compiled, record);
      // Each line's baseline (pdf.js: y up from the page's bottom), top to bottom.
      const lines = await withPdfDocument(pdf, async (doc) => {
        const page = await doc.getPage(1);
        const { items } = await page.getTextContent();
        return items.flatMap((item) =>
          'str' in item && item.str.trim() !== '' ? [{ text: item.str, y: item.transform[5] as number }] : [],
        );
      });
      const startsOf = ['Homeowners across', note.slice(0, 12), 'A free assessment', 'Warm regards,'];
      const firsts = startsOf.map((start) => lines.findIndex((l) => l.text.startsWith(start)));
      for (const index of firsts) expect(index).toBeGreaterThanOrEqual(0);
      // The gap above each paragraph's first line is the same: a line plus the paragraph spacing.
      const gaps = firsts.slice(1).map((index) => lines[index - 1]!.y - lines[index]!.y);
      for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0]!, 1);
      // …and larger than the gap between two lines of one paragraph.
      expect(gaps[0]! - (lines[0 + firsts[0]!]!.y - lines[firsts[0]! + 1]!.y)).toBeCloseTo(10, 0);
    }
  });
});

describe('right to left: the bundled multilingual sample', () => {
  let compiled: CompiledTemplate;
  /** Bidi marks pdftotext wraps right-to-left lines in: not text. */
  const MARKS = /[\u202A-\u202E]/g;

  beforeAll(async () => {
    compiled = await compileTemplate(path.join(TEMPLATES_DIR, 'multilingual-sample'));
  });

  it('extracts Hebrew and Arabic in reading order, word spaces kept, Latin runs inside', async () => {
    const pdf = await render(compiled, samples(compiled)[0]!.record as SampleRecord);
    const [poppler] = await popplerText(pdf);
    /** The words of a text in the order read: Hebrew, Arabic and Latin words, punctuation aside. */
    const words = (text: string) => text.match(/[\u0590-\u05FF]+|[\u0600-\u06FF]+|[A-Za-z0-9]+/g) ?? [];
    const read = words(poppler!.replace(MARKS, '')).join(' ');
    expect(read).toContain('שלום נועה כהן');
    expect(read).toContain(
      words('צוות Harbor Mutual ישמח לבדוק את הביטוח שלכם בחינם. התקשרו אל Dana Levi').join(' '),
    );
    expect(read).toContain(words('مرحبا נועה! فريق Harbor Mutual يساعدك على اختيار التأمين').join(' '));
    // Word spaces are kept: poppler finds them between the right-to-left words.
    expect(poppler!.replace(MARKS, '')).toContain('ישמח לבדוק את הביטוח שלכם');
    // pdf.js reads the runs in the order they are drawn: reading order (it drops the spaces).
    const [pdfjs] = await pdfText(pdf);
    expect(pdfjs!.replace(/\s/g, '')).toContain('שלוםנועהכהן,צוותHarborMutualישמחלבדוק');
  });

  it('writes right-to-left glyphs in reading order, as pdftotext -raw reads the content stream', async () => {
    const pdf = await render(compiled, samples(compiled)[0]!.record as SampleRecord);
    // -raw keeps the content stream's order; each glyph placed on its own reads as a word.
    const [raw] = await popplerText(pdf, ['-raw']);
    const letters = raw!.replace(MARKS, '').replace(/\s/g, '');
    expect(letters).toContain('שלוםנועהכהן');
    expect(letters).toContain('ישמחלבדוקאתהביטוחשלכםבחינם');
    // Brackets set right to left print mirrored; their ActualText says which they are.
    expect(letters).toContain('בטלפון(207)555-0142');
    // Arabic letters as they are spelled, though the font joins them into contextual forms.
    expect(letters).toContain('مرحبا');
    expect(letters).toContain('يساعدكعلىاختيارالتأمين');
  });

  it('prints a right-to-left paragraph from the right edge of its box', async () => {
    const piece = preparePiece(compiled, samples(compiled)[0]!.record, compiled.assets);
    const greeting = piece.pages[0]!.find((item) => item.kind === 'text' && item.name === 'greeting');
    if (greeting?.kind !== 'text') throw new Error('no greeting');
    const right = Math.max(...greeting.lines[0]!.runs.map((r) => r.x + r.face.width(r.text) * greeting.size));
    expect(right).toBeCloseTo(greeting.box.w, 1);
    // Words right to left: the first word of the greeting is the rightmost.
    const first = greeting.lines[0]!.runs[0]!;
    expect(first.text.trim()).toBe('שלום');
    expect(first.x).toBe(Math.max(...greeting.lines[0]!.runs.map((r) => r.x)));
  });
});
