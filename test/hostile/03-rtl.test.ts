/**
 * Right-to-left text (Hebrew, Arabic, Syriac, Thaana, N'Ko, …) would print with its words reversed
 * and merged, so until bidirectional layout exists it is refused wherever it enters, naming the
 * field: a record's values (on every face: the pipeline, a batch row, the API, the rep's form), a
 * rep's profile, and a template's own text (a compile error naming the element or input).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatenError } from '../../src/errors.js';
import { runBatch } from '../../src/jobs/batch.js';
import { renderChunk } from '../../src/jobs/chunk.js';
import { validateRecord } from '../../src/merge/merge.js';
import { preparePiece } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { ManifestInput } from '../../src/model/manifest.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { el, EL, elements, makePackage, validRecord } from '../support/base-package.js';
import { cleanup, TempDirs } from '../support/files.js';
import { expectProblems } from '../support/problems.js';
import { sampleRecord } from '../support/records.js';
import { brief, putProfile, request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';
import { signInPages } from '../support/pages.js';

const CANNOT_PRINT = "has right-to-left text (such as Hebrew or Arabic), which can't be printed yet";

/** Words in right-to-left scripts, each with Latin around it as a name or a message would have it. */
const RIGHT_TO_LEFT: Record<string, string> = {
  Hebrew: 'Dana שלום',
  Arabic: 'مرحبا Dana',
  Syriac: 'ܫܠܡܐ',
  Thaana: 'ދިވެހި',
  "N'Ko": 'ߒߞߏ',
  'Hebrew presentation forms': 'ﬠﬡ',
  'Arabic presentation forms': 'ﻣﺮﺣﺒﺎ',
  Adlam: '𞤀𞤣𞤤𞤢𞤥',
  'a right-to-left mark': 'Dana\u200F',
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

  it.each(Object.entries(RIGHT_TO_LEFT))('is refused on the path of the input that has it: %s', (_, text) => {
    const record = validRecord();
    record.prospect.firstName = text;
    record.fields.note = `First line\n${text}`;
    record.rep.name = text;
    const checked = validateRecord(compiled, record);
    expect(checked.ok).toBe(false);
    expectProblems(checked.ok ? [] : checked.problems, [
      { path: 'rep.name', rule: 'rtl', message: `"Your name" ${CANNOT_PRINT}` },
      { path: 'prospect.firstName', rule: 'rtl', message: `"First name" ${CANNOT_PRINT}` },
      { path: 'fields.note', rule: 'rtl', message: `"Note" ${CANNOT_PRINT}` },
    ]);
    // The pipeline every face renders through refuses it too.
    expect(() => preparePiece(compiled, record, new Map())).toThrow(PlatenError);
  });

  it('names the input by its key when it has no label, and checks emails and the like as well', () => {
    const record = validRecord();
    record.fields.headline = 'Coverage שלום';
    record.rep.email = 'دانا@harbor.example';
    const checked = validateRecord(compiled, record);
    expectProblems(checked.ok ? [] : checked.problems, [
      { path: 'rep.email', rule: 'rtl', message: `"email" ${CANNOT_PRINT}` },
      { path: 'fields.headline', rule: 'rtl', message: `"headline" ${CANNOT_PRINT}` },
    ]);
  });

  it.each(LEFT_TO_RIGHT)('is not refused for left-to-right text: %s', (text) => {
    const record = validRecord();
    record.prospect.firstName = text;
    record.fields.note = text;
    expect(validateRecord(compiled, record)).toMatchObject({ ok: true });
  });
});

describe("a template's own right-to-left text", () => {
  async function compileProblems(edit: (m: ManifestInput) => void) {
    const error = await compileTemplate(await makePackage(temp, edit)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatenError);
    return (error as PlatenError).problems;
  }

  it('is a compile error naming the element, in locked text and in a helper literal alike', async () => {
    const problems = await compileProblems((m) => {
      elements(m)[EL.disclaimer]!.text = 'Offer valid in participating states. العرض ساري';
      elements(m)[EL.greeting]!.text = 'Hi {{default prospect.firstName "חבר"}},';
    });
    expectProblems(problems, [
      { path: `${el(EL.greeting)}.text`, rule: 'rtl', message: `text "greeting" ${CANNOT_PRINT}` },
      { path: `${el(EL.disclaimer)}.text`, rule: 'rtl', message: `text "disclaimer" ${CANNOT_PRINT}` },
    ]);
  });

  it("is a compile error naming the input, in an input's default or choices", async () => {
    const problems = await compileProblems((m) => {
      m.fields!.headline!.default = 'ביטוח';
      m.fields!.plan!.choices = ['basic', 'plus', 'مميز'];
    });
    expectProblems(problems, [
      {
        path: 'fields.headline.default',
        rule: 'rtl',
        message: `the headline input's default ${CANNOT_PRINT}`,
      },
      { path: 'fields.plan.choices[2]', rule: 'rtl', message: `the plan input's choice 3 ${CANNOT_PRINT}` },
    ]);
  });
});

describe('a batch row with right-to-left text', () => {
  it('is a rejected row naming its column; the other rows are rendered', async () => {
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
    expect(result).toMatchObject({ done: 3, rendered: 2, rejected: 1 });
    const report = parse(await readFile(errorsPath, 'utf8'), { bom: true, columns: true }) as object[];
    expect(report).toEqual([
      {
        row: '2',
        line: '3',
        column: 'First Name',
        rule: 'rtl',
        message: `"First name" ${CANNOT_PRINT}`,
        value: 'שלום עולם',
      },
    ]);
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

  it('the API refuses a render and a preview with 422 naming the field, and stores nothing', async () => {
    const { prospect, fields } = await sampleRecord('insurance-brochure');
    const body = { templateId: 'insurance-brochure', prospect: { ...prospect, lastName: 'כהן' }, fields };
    for (const route of ['/api/v1/renders', '/api/v1/previews']) {
      const reply = await request(server, 'POST', route, { key: rep, json: body });
      expect(reply.status, brief(reply)).toBe(422);
      expect(reply.json().errors).toEqual([
        { path: 'prospect.lastName', rule: 'rtl', message: `"Last name" ${CANNOT_PRINT}` },
      ]);
    }
    const audit = await request(server, 'GET', '/api/v1/renders', { key: rep });
    expect(audit.json().renders).toEqual([]);
  });

  it('the API refuses a profile whose details no template could print, and keeps the old one', async () => {
    const reply = await putProfile(server, rep, { name: 'דנה וויטקומב', title: 'وكيل' });
    expect(reply.status, brief(reply)).toBe(422);
    expect(reply.json().errors).toEqual([
      { path: 'name', rule: 'rtl', message: `"Name" ${CANNOT_PRINT}` },
      { path: 'title', rule: 'rtl', message: `"Title" ${CANNOT_PRINT}` },
    ]);
    const profile = await request(server, 'GET', '/api/v1/reps/me', { key: rep });
    expect(profile.json()).toMatchObject({ name: 'Dana Whitcomb', title: 'Field Agent' });
  });

  it("the rep's form shows the problem beside the field, and so does the profile page", async () => {
    const pages = await signInPages(server.url, rep);
    const { prospect, fields } = await sampleRecord('insurance-brochure');
    const values: Record<string, string> = { version: '1' };
    for (const [key, value] of Object.entries(prospect)) values[`prospect.${key}`] = value;
    for (const [key, value] of Object.entries(fields)) values[`fields.${key}`] = value;
    values['prospect.firstName'] = 'مريم';
    const form = await pages.request('post', '/make/insurance-brochure/pdf', {
      form: { _csrf: pages.csrf, ...values },
    });
    expect(form.status).toBe(422);
    expect(form.text).toContain(
      `<div class="error" id="in-prospect-firstName-error" aria-live="polite"><p>&quot;First name&quot; ${CANNOT_PRINT.replace("'", '&#x27;')}</p></div>`,
    );

    const body = new FormData();
    body.append('_csrf', pages.csrf);
    body.append('name', 'דנה');
    const profile = await pages.request('post', '/profile', { body });
    expect(profile.status).toBe(422);
    expect(profile.text).toContain(
      `<div class="error" id="profile-name-error"><p>&quot;Name&quot; ${CANNOT_PRINT.replace("'", '&#x27;')}</p></div>`,
    );
  });
});
