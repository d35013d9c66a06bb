/**
 * Right-to-left text (Hebrew, Arabic, …) prints, laid out with the Unicode bidirectional algorithm
 * (test/unit/fit.test.ts, test/integration/type.test.ts): it is accepted wherever it enters — a
 * record's values on every face (the pipeline, a batch row, the API, the rep's form), a rep's profile,
 * a template's own text. A script no font of the template has (Syriac, Thaana, Adlam with the
 * base package's fonts) is refused as missing glyphs, naming the field.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatenError } from '../../src/errors.js';
import { runBatch } from '../../src/jobs/batch.js';
import { renderChunk } from '../../src/jobs/chunk.js';
import { validateRecord } from '../../src/merge/merge.js';
import { preparePiece } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { ManifestInput } from '../../src/model/manifest.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { EL, elements, makePackage, validRecord } from '../support/base-package.js';
import { cleanup, TempDirs } from '../support/files.js';
import { sampleRecord } from '../support/records.js';
import { brief, putProfile, request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';

/** Words in right-to-left scripts the base package's fallback font (DejaVu Sans) has. */
const PRINTABLE: Record<string, string> = {
  Hebrew: 'Dana שלום',
  Arabic: 'مرحبا Dana',
  'Hebrew presentation forms': 'ﬠﬡ',
  'Arabic presentation forms': 'ﻣﺮﺣﺒﺎ',
  "N'Ko": 'ߒߞߏ',
};

/** Right-to-left scripts no font of the base package has. */
const NO_FONT: Record<string, string> = {
  Syriac: 'ܫܠܡܐ',
  Thaana: 'ދިވެހި',
  Adlam: '𞤀𞤣𞤤𞤢𞤥',
};

/** Left-to-right scripts, accents and signs print as they are. */
const LEFT_TO_RIGHT = ['José Ñúñez', 'Ελένη', 'Дмитрий', '王小明', 'देवनागरी', 'ภาษาไทย', 'Zoë 👋 & Co.'];

const temp = new TempDirs();
afterAll(() => temp.cleanup());

/** The bad-input base package, with labels on the inputs the cases fill. */
function labelled(m: ManifestInput): void {
  m.prospect!.firstName!.label = 'First name';
  m.fields!.note!.label = 'Note';
  m.rep!.name!.label = 'Your name';
}

describe('a record with right-to-left text', () => {
  let compiled: CompiledTemplate;
  beforeAll(async () => {
    compiled = await compileTemplate(await makePackage(temp, labelled));
  });

  it.each(Object.entries(PRINTABLE))('is accepted and printed: %s', (_, text) => {
    const record = validRecord();
    record.prospect.firstName = text;
    record.fields.note = `First line\n${text}`;
    record.rep.name = text;
    expect(validateRecord(compiled, record)).toMatchObject({ ok: true });
    expect(() => preparePiece(compiled, record, new Map())).not.toThrow();
  });

  it.each(Object.entries(NO_FONT))(
    'is refused as missing glyphs on its path when no font has it: %s',
    (_, text) => {
      const record = validRecord();
      record.prospect.firstName = text;
      expect(validateRecord(compiled, record)).toMatchObject({ ok: true });
      const error = (() => {
        try {
          preparePiece(compiled, record, new Map());
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(PlatenError);
      const problems = (error as PlatenError).problems;
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems)
        expect(problem).toMatchObject({ path: 'prospect.firstName', rule: 'missing_glyph' });
    },
  );

  it.each(LEFT_TO_RIGHT)('is not refused for left-to-right text: %s', (text) => {
    const record = validRecord();
    record.prospect.firstName = text;
    record.fields.note = text;
    expect(validateRecord(compiled, record)).toMatchObject({ ok: true });
  });
});

describe("a template's own right-to-left text", () => {
  it('compiles, in locked text, a helper literal, an input default and its choices', async () => {
    const dir = await makePackage(temp, (m) => {
      elements(m)[EL.disclaimer]!.text = 'Offer valid in participating states. العرض ساري';
      elements(m)[EL.greeting]!.text = 'Hi {{default prospect.firstName "חבר"}},';
      m.fields!.headline!.default = 'ביטוח';
      m.fields!.plan!.choices = ['basic', 'plus', 'مميز'];
    });
    await expect(compileTemplate(dir)).resolves.toMatchObject({ pages: expect.any(Array) });
  });
});

describe('a batch row with right-to-left text', () => {
  it('is rendered with the other rows', async () => {
    const dir = await makePackage(temp, labelled);
    const compiled = await compileTemplate(dir);
    const work = await temp.make();
    const csvPath = path.join(work, 'list.csv');
    await writeFile(csvPath, 'First Name,State\nChloé,ME\nשלום עולם,ME\nAna,NH\n');
    const errorsPath = path.join(work, 'errors.csv');
    const result = await runBatch({
      template: { dir },
      compiled,
      csvPath,
      rep: { values: validRecord().rep, images: [] },
      out: path.join(work, 'drop.pdf'),
      errorsPath,
      dispatcher: {
        concurrency: 1,
        run: (task) => renderChunk(compiled, task),
        close: async () => undefined,
      },
    });
    expect(result).toMatchObject({ done: 3, rendered: 3, rejected: 0 });
  });
});

describe('right-to-left text through the service', () => {
  let server: TestServer;
  let rep: string;

  beforeAll(async () => {
    server = await startTestServer();
    rep = (await createKey(server, 'rep', 'Dana', 'dana')).key;
    const profile = await putProfile(server, rep, fullProfile('Dana Whitcomb'));
    expect(profile.status, brief(profile)).toBe(200);
  });
  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it('the API renders and previews it', async () => {
    const { prospect, fields } = await sampleRecord('insurance-brochure');
    const body = { templateId: 'insurance-brochure', prospect: { ...prospect, lastName: 'כהן' }, fields };
    for (const route of ['/api/v1/renders', '/api/v1/previews']) {
      const reply = await request(server, 'POST', route, { key: rep, json: body });
      expect(reply.status, brief(reply)).toBeLessThan(300);
    }
  });

  it('the API keeps a profile with right-to-left details', async () => {
    const reply = await putProfile(server, rep, { name: 'דנה וויטקומב', title: 'وكيل' });
    expect(reply.status, brief(reply)).toBe(200);
    const profile = await request(server, 'GET', '/api/v1/reps/me', { key: rep });
    expect(profile.json()).toMatchObject({ name: 'דנה וויטקומב', title: 'وكيل' });
  });
});
