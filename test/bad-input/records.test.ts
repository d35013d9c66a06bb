/**
 * Bad records (record-cases.ts) checked in process: `checkRecord` reports exactly the problems each
 * case names, `preparePiece` throws them as one PlatenError; and records whose images are wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecordImages } from '../../src/assets/record-images.js';
import { formatProblem, PlatenError } from '../../src/errors.js';
import { validateRecord } from '../../src/merge/merge.js';
import { checkRecord, preparePiece } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { makePackage, validRecord } from '../support/base-package.js';
import { expectProblems, pathsAndRules } from '../support/problems.js';
import { BROCHURE_DIR } from '../support/repo.js';
import { brochureWithPhoto, cases, MB, parse, recordFile, temp, withValues } from './record-cases.js';

afterAll(() => temp.cleanup());

let compiled: CompiledTemplate;

beforeAll(async () => {
  compiled = await compileTemplate(await makePackage(temp));
});

const NO_IMAGES = new Map();

/** What preparePiece throws for `record` (it must throw a PlatenError). */
function preparedError(template: CompiledTemplate, record: unknown, images = NO_IMAGES): PlatenError {
  try {
    preparePiece(template, record, images);
  } catch (error) {
    if (error instanceof PlatenError) return error;
    throw error;
  }
  throw new Error('preparePiece accepted the record');
}

describe('the base record', () => {
  it('is valid, so each case below fails for its own reason only', () => {
    expect(checkRecord(compiled, validRecord(), NO_IMAGES)).toEqual([]);
  });

  it('accepts line breaks in a multiline input', () => {
    expect(
      checkRecord(compiled, withValues({ fields: { note: 'Dear Chloé,\r\nwelcome.\n' } }), NO_IMAGES),
    ).toEqual([]);
  });
});

describe.concurrent('bad records', () => {
  describe.each(cases)('bad record: $name', (c) => {
    it('checkRecord reports exactly these problems', () => {
      expectProblems(checkRecord(compiled, parse(c), NO_IMAGES), c.expected);
    });

    it('preparePiece throws them as one PlatenError', () => {
      const error = preparedError(compiled, parse(c));
      expect(error.code).toBe(c.code ?? 'invalid_record');
      expectProblems(error.problems, c.expected);
      expect(error.message).toBe(error.problems.map(formatProblem).join('\n'));
    });
  });
});

describe('16 prototype keys leave Object.prototype untouched', () => {
  it('after checking and preparing every raw record with __proto__ / constructor keys', () => {
    for (const c of cases.filter((k) => k.raw)) {
      const record = JSON.parse(c.record as string) as unknown;
      checkRecord(compiled, record, NO_IMAGES);
      preparedError(compiled, record);
      const result = validateRecord(compiled, record);
      expect(result.ok).toBe(false);
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('headline');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('17 a 1 MB record', () => {
  it('a 1 MB unknown key is rejected by name', () => {
    const key = `k${'e'.repeat(MB)}`;
    const problems = checkRecord(compiled, withValues({ fields: { [key]: 'x' } }), NO_IMAGES);
    expect(pathsAndRules(problems)).toEqual([{ path: `fields.${key}`, rule: 'unknown_key' }]);
  });
});

describe('18 an emoji outside a template whose only font lacks it', () => {
  let bodyOnly: CompiledTemplate;
  beforeAll(async () => {
    bodyOnly = await compileTemplate(
      await makePackage(temp, (m) => {
        m.fallbackFonts = [];
      }),
    );
  });

  it('preparePiece names the field and the code point', () => {
    const error = preparedError(bodyOnly, withValues({ fields: { headline: 'Hi 😀' } }));
    expect(error.code).toBe('does_not_fit');
    expectProblems(error.problems, [
      { path: 'fields.headline', rule: 'missing_glyph', message: '"😀" (U+1F600)' },
    ]);
  });
});

describe.concurrent('21 image inputs (insurance-brochure rep.photo)', () => {
  let brochure: CompiledTemplate;
  let recordWithPhoto: Awaited<ReturnType<typeof brochureWithPhoto>>;

  beforeAll(async () => {
    brochure = await compileTemplate(BROCHURE_DIR);
    recordWithPhoto = await brochureWithPhoto();
  });

  it('a .jpg that holds text: bad_image at rep.photo', async () => {
    const { dir } = await recordFile(recordWithPhoto('headshot.jpg'), { 'headshot.jpg': 'not a photo\n' });
    const error = await loadRecordImages(brochure, recordWithPhoto('headshot.jpg'), dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatenError);
    expectProblems((error as PlatenError).problems, [
      { path: 'rep.photo', rule: 'bad_image', message: /^headshot\.jpg: / },
    ]);
  });

  it('a missing photo file: bad_image at rep.photo', async () => {
    const { dir } = await recordFile(recordWithPhoto('gone.jpg'));
    const error = await loadRecordImages(brochure, recordWithPhoto('gone.jpg'), dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatenError);
    expectProblems((error as PlatenError).problems, [
      { path: 'rep.photo', rule: 'bad_image', message: /^gone\.jpg: / },
    ]);
  });

  it('a photo the caller did not supply: missing_image from preparePiece', () => {
    const error = preparedError(brochure, recordWithPhoto('uploads/unknown.jpg'));
    expect(error.code).toBe('invalid_record');
    expectProblems(error.problems, [
      { path: 'rep.photo', rule: 'missing_image', message: 'uploads/unknown.jpg' },
    ]);
  });
});
