import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedImage } from '../../src/assets/images.js';
import { PlatenError } from '../../src/errors.js';
import { fitPiece } from '../../src/layout/piece.js';
import { conditionHolds } from '../../src/merge/conditions.js';
import { landingUrl, mergeRecord } from '../../src/merge/merge.js';
import type { Piece } from '../../src/model/piece.js';
import type { TextToFit } from '../../src/model/text.js';
import { checkRecord, preparePiece } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { BOLD_TOGGLE } from '../../src/text/handlebars.js';
import type { Condition } from '../../src/model/condition.js';
import type { DrawItem } from '../../src/model/kinds.js';
import { type ManifestInput, PHOTO_MIN_PX } from '../../src/model/manifest.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { type BrochureRecord, brochureRecord } from '../support/records.js';
import { BROCHURE_DIR, BROCHURE_FONTS } from '../support/repo.js';

const NO_IMAGES: ReadonlyMap<string, PreparedImage> = new Map();
const PRODUCT_LINES = ['auto', 'home', 'life', 'business'] as const;

let brochure: CompiledTemplate;
let tiny: CompiledTemplate;
let tmp: string;

/** A small package: a data-chosen image with a fallback, and a long-text field with no maxLength of its own. */
const TINY: ManifestInput = {
  id: 'tiny',
  name: 'Tiny',
  page: { size: 'postcard-6x4' },
  fonts: { body: { regular: 'fonts/SourceSans3-Regular.ttf' } },
  prospect: { industry: { type: 'text', maxLength: 40 } },
  fields: { note: { type: 'multiline' } },
  pages: [
    {
      name: 'front',
      elements: [
        {
          type: 'image',
          name: 'industryImage',
          x: 0,
          y: 0,
          w: 200,
          h: 100,
          src: 'images/{{prospect.industry}}.jpg',
          fallback: 'images/general.jpg',
        },
        { type: 'text', name: 'noteText', field: 'note', x: 10, y: 120, w: 200, h: 40, size: 10, minSize: 8 },
      ],
    },
  ],
};

beforeAll(async () => {
  brochure = await compileTemplate(BROCHURE_DIR);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'platen-merge-'));
  await mkdir(path.join(tmp, 'fonts'));
  await mkdir(path.join(tmp, 'images'));
  await copyFile(
    path.join(BROCHURE_FONTS, 'SourceSans3-Regular.ttf'),
    path.join(tmp, 'fonts/SourceSans3-Regular.ttf'),
  );
  const products = path.join(BROCHURE_DIR, 'images/products');
  await copyFile(path.join(products, 'general.jpg'), path.join(tmp, 'images/general.jpg'));
  await copyFile(path.join(products, 'home.jpg'), path.join(tmp, 'images/marine.jpg'));
  await writeFile(path.join(tmp, 'template.json'), JSON.stringify(TINY));
  tiny = await compileTemplate(tmp);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

type Item = DrawItem | TextToFit;

/** Every element name a piece draws, static layers opened up. */
function names(piece: Piece): string[] {
  return piece.pages.flat().flatMap((item: Item) => {
    if (item.kind === 'fit') return [item.element.name];
    if (item.kind === 'static') return item.items.map((i) => i.name);
    return [item.name];
  });
}

function find(piece: Piece, name: string): Item | undefined {
  return piece.pages
    .flat()
    .find((item) => (item.kind === 'fit' ? item.element.name : 'name' in item && item.name) === name);
}

function textToFit(piece: Piece, name: string): TextToFit {
  const item = find(piece, name);
  if (item?.kind !== 'fit') throw new Error(`${name} is not a text to fit`);
  return item;
}

function imageOf(piece: Piece, name: string): PreparedImage {
  const item = find(piece, name);
  if (item?.kind !== 'image') throw new Error(`${name} is not an image`);
  return item.image;
}

function mergeError(compiled: CompiledTemplate, record: unknown, images = NO_IMAGES): PlatenError {
  try {
    mergeRecord(compiled, record, images);
  } catch (error) {
    expect(error).toBeInstanceOf(PlatenError);
    return error as PlatenError;
  }
  throw new Error('expected mergeRecord to throw');
}

describe('mergeRecord: conditional elements', () => {
  const perLine = (line: string) => [
    `${line}Title`,
    `${line}Points`,
    `${line}TileHighlight`,
    `${line}Badge`,
    `${line}BadgeText`,
  ];

  it.each(PRODUCT_LINES)('shows only the %s sections for that product line', (line) => {
    const piece = mergeRecord(brochure, brochureRecord(line), NO_IMAGES);
    const shown = names(piece);
    for (const name of perLine(line)) expect(shown).toContain(name);
    for (const other of PRODUCT_LINES.filter((l) => l !== line)) {
      for (const name of perLine(other)) expect(shown).not.toContain(name);
    }
    // Unconditional elements are always there, on both pages.
    for (const name of [
      'headline',
      'message',
      'repPhoto',
      'productImage',
      'quoteQr',
      'autoTile',
      'disclaimer',
    ]) {
      expect(shown).toContain(name);
    }
    expect(piece.pages).toHaveLength(2);
  });

  it('keeps the template’s z-order: the highlight is drawn over its tile and under its icon', () => {
    const shown = names(mergeRecord(brochure, brochureRecord('life'), NO_IMAGES));
    expect(shown.indexOf('lifeTile')).toBeLessThan(shown.indexOf('lifeTileHighlight'));
    expect(shown.indexOf('lifeTileHighlight')).toBeLessThan(shown.indexOf('lifeIcon'));
  });
});

describe('conditionHolds', () => {
  const ctx = {
    rep: {},
    prospect: { line: 'auto', company: '', vip: false, member: true },
    fields: {},
    piece: {},
  };
  const holds = (condition: Condition) => conditionHolds(condition, ctx);

  it('equals', () => {
    expect(holds({ path: 'prospect.line', equals: 'auto' })).toBe(true);
    expect(holds({ path: 'prospect.line', equals: 'home' })).toBe(false);
    expect(holds({ path: 'prospect.member', equals: true })).toBe(true);
    expect(holds({ path: 'prospect.vip', equals: true })).toBe(false);
  });

  it('in', () => {
    expect(holds({ path: 'prospect.line', in: ['home', 'auto'] })).toBe(true);
    expect(holds({ path: 'prospect.line', in: ['home', 'life'] })).toBe(false);
    expect(holds({ path: 'prospect.member', in: ['true'] })).toBe(false);
  });

  it('exists: empty strings are absent', () => {
    expect(holds({ path: 'prospect.line', exists: true })).toBe(true);
    expect(holds({ path: 'prospect.company', exists: true })).toBe(false);
    expect(holds({ path: 'prospect.company', exists: false })).toBe(true);
    expect(holds({ path: 'prospect.vip', exists: true })).toBe(true);
  });

  it('truthy: false and empty are falsy', () => {
    expect(holds({ path: 'prospect.member', truthy: true })).toBe(true);
    expect(holds({ path: 'prospect.vip', truthy: true })).toBe(false);
    expect(holds({ path: 'prospect.vip', truthy: false })).toBe(true);
    expect(holds({ path: 'prospect.company', truthy: false })).toBe(true);
    expect(holds({ path: 'prospect.line', truthy: true })).toBe(true);
  });
});

describe('mergeRecord: content', () => {
  it('renders text into styled spans, data printed as written', () => {
    const record = brochureRecord();
    record.prospect.company = 'Smith & Sons <Ltd> **VIP**';
    const piece = mergeRecord(brochure, record, NO_IMAGES);
    expect(textToFit(piece, 'preparedFor').spans).toEqual([
      { text: 'Prepared for ', bold: false, italic: false },
      { text: 'Bo Chen', bold: true, italic: false },
      { text: ', Smith & Sons <Ltd> **VIP**', bold: false, italic: false },
    ]);
    expect(textToFit(piece, 'greeting').spans).toEqual([{ text: 'Hello, Bo!', bold: false, italic: false }]);
  });

  it('leaves out an optional block when its value is absent', () => {
    const piece = mergeRecord(brochure, brochureRecord(), NO_IMAGES);
    expect(
      textToFit(piece, 'preparedFor')
        .spans.map((s) => s.text)
        .join(''),
    ).toBe('Prepared for Bo Chen');
  });

  it('uppercases uppercase elements after merging', () => {
    const piece = mergeRecord(brochure, brochureRecord('home'), NO_IMAGES);
    expect(textToFit(piece, 'homeBadgeText').spans).toEqual([
      { text: 'RECOMMENDED FOR YOU', bold: true, italic: false },
    ]);
  });

  it('never lets data carry emphasis markers into a piece', () => {
    const record = brochureRecord();
    record.prospect.company = `${BOLD_TOGGLE}bold`;
    expect(mergeError(brochure, record).problems.map((p) => p.path)).toEqual(['prospect.company']);
  });

  it("prints the piece's tracked link, marked as a scan, in QR codes, and its code in text", () => {
    const identity = { url: 'https://go.example/r/7KQ2M9XDP4T8Z', code: '7KQ2M9XDP4T8Z' };
    const piece = mergeRecord(brochure, brochureRecord('home'), NO_IMAGES, identity);
    expect(find(piece, 'quoteQr')).toMatchObject({ kind: 'qr', content: `${identity.url}?qr` });
    expect(JSON.stringify(textToFit(piece, 'quoteCaption').spans)).toContain(identity.code);
    // Without an identity (a preview, a sample check) the sample prints.
    const sample = find(mergeRecord(brochure, brochureRecord('home'), NO_IMAGES), 'quoteQr');
    expect(sample).toMatchObject({ content: 'https://platen.example/r/0000000000000?qr' });
  });

  it('leads the tracked link to the landing page the template renders with the record', () => {
    const record = brochureRecord('home');
    record.prospect.id = 'HM_10-482';
    const piece = mergeRecord(brochure, record, NO_IMAGES);
    expect(landingUrl(brochure, piece.record, { url: '', code: 'X' })).toBe(
      'https://harbormutual.example/q/HM_10-482?line=home',
    );
  });

  it('passes the validated record, defaults applied, to the piece', () => {
    const piece = mergeRecord(brochure, brochureRecord(), NO_IMAGES);
    expect(piece.templateId).toBe('insurance-brochure');
    expect(piece.version).toBe(1);
    expect(piece.record.rep.title).toBe('Licensed Insurance Agent');
    expect(textToFit(piece, 'headline').spans).toEqual([
      { text: 'Coverage that keeps you steady', bold: false, italic: false },
    ]);
  });
});

describe('mergeRecord: images', () => {
  it.each(PRODUCT_LINES)('chooses the product image for %s', (line) => {
    const piece = mergeRecord(brochure, brochureRecord(line), NO_IMAGES);
    const expected = brochure.assets.get(`images/products/${line}.jpg`);
    expect(expected).toBeDefined();
    expect(imageOf(piece, 'productImage')).toBe(expected);
  });

  it('uses a data-chosen image when the package has it', () => {
    const piece = mergeRecord(tiny, { prospect: { industry: 'marine' } }, NO_IMAGES);
    expect(imageOf(piece, 'industryImage')).toBe(tiny.assets.get('images/marine.jpg'));
    expect(tiny.assets.get('images/marine.jpg')).not.toBe(tiny.assets.get('images/general.jpg'));
  });

  it.each([
    ['no matching file', 'farming'],
    ['an empty value', ''],
    ['a path outside the folder', '../images/marine'],
    ['a path outside the package', '../../../etc/passwd'],
  ])('falls back when the data names %s', (_what, industry) => {
    const piece = mergeRecord(tiny, { prospect: { industry } }, NO_IMAGES);
    const fallback = tiny.assets.get('images/general.jpg');
    expect(fallback).toBeDefined();
    expect(imageOf(piece, 'industryImage')).toBe(fallback);
  });

  it('uses the fallback for an image input left empty', () => {
    const piece = mergeRecord(brochure, brochureRecord(), NO_IMAGES);
    expect(imageOf(piece, 'repPhoto')).toBe(brochure.assets.get('images/photo-placeholder.jpg'));
  });

  it('uses the image an image input names', () => {
    const record = brochureRecord();
    record.rep.photo = 'samples/agent-2.jpg';
    const piece = mergeRecord(brochure, record, brochure.assets);
    const photo = brochure.assets.get('samples/agent-2.jpg');
    expect(photo).toBeDefined();
    expect(imageOf(piece, 'repPhoto')).toBe(photo);
  });

  it('rejects an image input whose image is not supplied', () => {
    const record = brochureRecord();
    record.rep.photo = 'uploads/nope.jpg';
    const error = mergeError(brochure, record);
    expect(error.code).toBe('invalid_record');
    expect(error.problems).toEqual([
      { path: 'rep.photo', rule: 'missing_image', message: 'image not found: uploads/nope.jpg' },
    ]);
  });
  it('refuses a rep photo under PHOTO_MIN_PX, the one minimum the brochure and the profile share', () => {
    expect(brochure.manifest.rep.photo?.minWidth).toBeUndefined();
    const record = brochureRecord();
    record.rep.photo = 'uploads/small.jpg';
    const small = { ...brochure.assets.get('samples/agent-2.jpg')!, width: 200, height: 200 };
    const error = mergeError(brochure, record, new Map([['uploads/small.jpg', small]]));
    expect(error.problems).toEqual([
      {
        path: 'rep.photo',
        rule: 'image_too_small',
        message: `the image is 200×200 px; at least ${PHOTO_MIN_PX}×${PHOTO_MIN_PX} px is required`,
      },
    ]);
  });
});

describe('mergeRecord: recordHash', () => {
  const hash = (record: unknown, images = NO_IMAGES) => mergeRecord(brochure, record, images).recordHash;

  it('is a stable SHA-256', () => {
    const first = hash(brochureRecord());
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(brochureRecord())).toBe(first);
  });

  it('changes when any value changes', () => {
    const changes: [scope: 'rep' | 'prospect' | 'fields', key: string, value: string][] = [
      ['rep', 'name', 'Ann Leigh'],
      ['rep', 'title', 'Agent'],
      ['rep', 'licenseNumber', 'ME-1235'],
      ['rep', 'phone', '(415) 555-0142'],
      ['rep', 'email', 'ann.lee2@example.com'],
      ['prospect', 'id', 'P-1002'],
      ['prospect', 'firstName', 'Bob'],
      ['prospect', 'lastName', 'Chan'],
      ['prospect', 'company', 'Acme'],
      ['prospect', 'productLine', 'life'],
      ['fields', 'headline', 'Peace of mind, close to home'],
      ['fields', 'message', 'Thanks for meeting me last week!'],
    ];
    const base = hash(brochureRecord());
    const seen = new Set([base]);
    for (const [scope, key, value] of changes) {
      const changed = brochureRecord();
      changed[scope][key] = value;
      const h = hash(changed);
      expect(h, `${scope}.${key}`).not.toBe(base);
      seen.add(h);
    }
    // Every change gives its own hash.
    expect(seen.size).toBe(changes.length + 1);
  });

  it('changes when an optional value is added', () => {
    const record = brochureRecord();
    record.prospect.company = 'Acme';
    expect(hash(record)).not.toBe(hash(brochureRecord()));
  });

  it('does not depend on key order', () => {
    const record = brochureRecord();
    const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    const permuted = {
      fields: reversed(record.fields),
      prospect: reversed(record.prospect),
      rep: reversed(record.rep),
    };
    expect(JSON.stringify(permuted)).not.toBe(JSON.stringify(record));
    expect(hash(permuted)).toBe(hash(record));
  });

  it('is the same whether a default is sent or left out', () => {
    const explicit = brochureRecord();
    explicit.rep.title = 'Licensed Insurance Agent';
    explicit.fields.headline = 'Coverage that keeps you steady';
    expect(hash(explicit)).toBe(hash(brochureRecord()));
  });

  it('hashes images by content, not by name', () => {
    const photo = brochure.assets.get('samples/agent-1.jpg');
    const other = brochure.assets.get('samples/agent-3.jpg');
    if (!photo || !other) throw new Error('sample images not loaded');
    const images = new Map([
      ['a.jpg', photo],
      ['b.jpg', photo],
      ['c.jpg', other],
    ]);
    const withPhoto = (ref: string): BrochureRecord => {
      const record = brochureRecord();
      record.rep.photo = ref;
      return record;
    };
    expect(hash(withPhoto('a.jpg'), images)).toBe(hash(withPhoto('b.jpg'), images));
    expect(hash(withPhoto('a.jpg'), images)).not.toBe(hash(withPhoto('c.jpg'), images));
    expect(hash(withPhoto('a.jpg'), images)).not.toBe(hash(brochureRecord()));
  });
});

describe('fitPiece', () => {
  it('reports every text element, naming the field it shows', () => {
    const { fitted, problems } = fitPiece(mergeRecord(brochure, brochureRecord('auto'), NO_IMAGES));
    expect(problems).toEqual([]);
    const byElement = new Map(fitted.report.map((entry) => [entry.element, entry]));
    expect(byElement.get('headline')).toEqual({
      element: 'headline',
      field: 'headline',
      status: 'fits',
      size: 26,
      preferredSize: 26,
    });
    expect(byElement.get('message')).toMatchObject({ field: 'message', status: 'fits', size: 12.5 });
    expect(byElement.get('greeting')).toEqual({
      element: 'greeting',
      status: 'fits',
      size: 18,
      preferredSize: 18,
    });
    expect(byElement.has('autoPoints')).toBe(true);
    expect(byElement.has('homePoints')).toBe(false);
    // Locked text is fitted once at compile time and is not in the per-record report.
    expect(byElement.has('disclaimer')).toBe(false);
    expect(fitted.report.filter((e) => e.field !== undefined).map((e) => e.field)).toEqual([
      'headline',
      'message',
    ]);
  });

  it('turns every text into a drawable text item', () => {
    const { fitted } = fitPiece(mergeRecord(brochure, brochureRecord(), NO_IMAGES));
    const kinds = new Set(fitted.pages.flat().map((item) => item.kind));
    expect(kinds.has('text')).toBe(true);
    expect(
      [...kinds].every((k) =>
        ['text', 'image', 'qr', 'static', 'rect', 'ellipse', 'line', 'svg'].includes(k),
      ),
    ).toBe(true);
    const message = fitted.pages[0]?.find((item) => item.kind === 'text' && item.name === 'message');
    expect(message).toMatchObject({ kind: 'text', size: 12.5, box: { x: 36, y: 262, w: 340, h: 140 } });
  });

  it('shrinks a long message to fit and says so', () => {
    // Nine short lines: 9 × 12.5 pt × 1.4 is too tall for the 140 pt box; 9 × 11 × 1.4 = 138.6 is not.
    const message = 'A short line of text.\n'.repeat(9).trim();
    const record = brochureRecord();
    record.fields.message = message;
    const { fitted, problems } = fitPiece(mergeRecord(brochure, record, NO_IMAGES));
    expect(problems).toEqual([]);
    const entry = fitted.report.find((e) => e.element === 'message');
    expect(entry).toMatchObject({ field: 'message', status: 'shrunk', size: 11, preferredSize: 12.5 });
  });

  it('reports an over-long field as an overflow of that field', () => {
    // Within maxLength (400) but far too many lines for the box.
    const record = brochureRecord();
    record.fields.message = 'Line\n'.repeat(60).trim();
    const piece = mergeRecord(brochure, record, NO_IMAGES);
    const { fitted, problems } = fitPiece(piece);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'fields.message', rule: 'overflow' });
    expect(problems[0]?.message).toMatch(/^too long for its box at 9 pt: about \d+ characters too many/);
    const entry = fitted.report.find((e) => e.element === 'message');
    expect(entry?.status).toBe('overflow');
    expect(entry?.size).toBe(9);
    expect(entry?.overflow?.points).toBeGreaterThan(0);
    expect(entry?.overflow?.chars).toBeGreaterThan(0);
  });

  it('reports an overflow of a field without its own maxLength', () => {
    const note = 'Plenty of words that will never fit in a box this small. '.repeat(30).trim();
    expect(note.length).toBeLessThanOrEqual(2000);
    const { problems, fitted } = fitPiece(mergeRecord(tiny, { fields: { note } }, NO_IMAGES));
    expect(problems).toEqual([expect.objectContaining({ path: 'fields.note', rule: 'overflow' })]);
    expect(fitted.report).toEqual([
      expect.objectContaining({
        element: 'noteText',
        field: 'note',
        status: 'overflow',
        size: 8,
        preferredSize: 10,
      }),
    ]);
  });

  it('names the record value holding a character no font can show', () => {
    const record = brochureRecord();
    record.prospect.firstName = 'Bo 漢';
    const { problems } = fitPiece(mergeRecord(brochure, record, NO_IMAGES));
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem).toEqual({
        path: 'prospect.firstName',
        rule: 'missing_glyph',
        message: 'no font of the template can show "漢" (U+6F22)',
      });
    }
  });

  it('is what the pipeline checks and refuses to prepare', () => {
    const record = brochureRecord();
    record.fields.message = 'Line\n'.repeat(60).trim();
    expect(checkRecord(brochure, record, NO_IMAGES)).toEqual([
      expect.objectContaining({ path: 'fields.message', rule: 'overflow' }),
    ]);
    try {
      preparePiece(brochure, record, NO_IMAGES);
      throw new Error('expected preparePiece to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(PlatenError);
      expect((error as PlatenError).code).toBe('does_not_fit');
      expect((error as PlatenError).problems.map((p) => p.path)).toEqual(['fields.message']);
    }
    expect(preparePiece(brochure, brochureRecord(), NO_IMAGES).recordHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('invalid records', () => {
  it('throw PlatenError("invalid_record") listing every problem', () => {
    const record = brochureRecord();
    delete record.rep.name;
    record.rep.email = 'nope';
    record.prospect.id = 'P 1';
    record.fields.extra = 'x';
    const error = mergeError(brochure, record);
    expect(error.name).toBe('PlatenError');
    expect(error.code).toBe('invalid_record');
    expect(error.problems.map((p) => `${p.path}:${p.rule}`)).toEqual([
      'rep.name:invalid_type',
      'rep.email:invalid_format',
      'prospect.id:invalid_format',
      'fields.extra:unknown_key',
    ]);
    expect(error.message.split('\n')).toEqual([
      'rep.name: required',
      'rep.email: not an email address',
      'prospect.id: Prospect ID: letters, digits, hyphens and underscores only, with no spaces',
      'fields.extra: not an input of this template (locked content cannot be changed)',
    ]);
  });

  it('are reported by checkRecord without throwing', () => {
    const record = brochureRecord();
    record.prospect.firstName = 'x'.repeat(41);
    expect(checkRecord(brochure, record, NO_IMAGES)).toEqual([
      { path: 'prospect.firstName', rule: 'too_big', message: 'longer than 40 characters' },
    ]);
  });
});
