/**
 * Bad records (record-cases.ts) on the command line, as built: `platen render --record` exits 1,
 * prints one `path: message` line per problem on stderr, and leaves no PDF or temp file behind; and
 * record files that cannot be read at all.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePackage, validRecord } from '../support/base-package.js';
import { listDir } from '../support/files.js';
import { pngBytes } from '../support/images.js';
import { expectProblemLines, lines } from '../support/problems.js';
import { BROCHURE_DIR, requireBuiltCli, runCli } from '../support/repo.js';
import { brochureWithPhoto, cases, MB, recordFile, temp, withValues } from './record-cases.js';

afterAll(() => temp.cleanup());

let templateDir: string;

beforeAll(async () => {
  await requireBuiltCli();
  templateDir = await makePackage(temp);
});

/** `platen render <template> --record <file> --out <outDir>/piece.pdf`. */
async function render(template: string, record: unknown) {
  const { file, outDir } = await recordFile(record);
  const result = await runCli([
    'render',
    template,
    '--record',
    file,
    '--out',
    path.join(outDir, 'piece.pdf'),
  ]);
  return { ...result, file, outDir };
}

describe('the base record', () => {
  it('renders, so each case below fails for its own reason only', async () => {
    const { code, stderr, outDir } = await render(templateDir, validRecord());
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
    expect((await readFile(path.join(outDir, 'piece.pdf'))).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });
});

describe.concurrent('bad records', () => {
  describe.each(cases)('bad record: $name', (c) => {
    it('platen render exits 1, prints them on stderr and writes nothing', async () => {
      const { code, stdout, stderr, outDir } = await render(templateDir, c.record);
      expectProblemLines(stderr, c.expected);
      expect(stdout).toBe('');
      expect(code).toBe(1);
      expect(await listDir(outDir)).toEqual([]);
    });
  });
});

describe('17 a 1 MB record file on the command line', () => {
  it('is rejected by the length rule; the command returns', async () => {
    const { code, stderr, outDir } = await render(
      templateDir,
      withValues({ fields: { headline: 'x'.repeat(MB), note: 'y'.repeat(MB) } }),
    );
    expectProblemLines(stderr, [
      { path: 'fields.headline', rule: 'too_big', message: 'longer than 120 characters' },
      { path: 'fields.note', rule: 'too_big', message: 'longer than 400 characters' },
    ]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });
});

describe('18 an emoji outside a template whose only font lacks it', () => {
  let bodyOnlyDir: string;
  beforeAll(async () => {
    bodyOnlyDir = await makePackage(temp, (m) => {
      m.fallbackFonts = [];
    });
  });

  it('platen render exits 1 with the problem and writes nothing', async () => {
    const { code, stderr, outDir } = await render(bodyOnlyDir, withValues({ fields: { headline: 'Hi 😀' } }));
    expectProblemLines(stderr, [
      { path: 'fields.headline', rule: 'missing_glyph', message: '"😀" (U+1F600)' },
    ]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });
});

describe.concurrent('20 unreadable record files on the command line', () => {
  it('invalid JSON: exit 1, the file named with the JSON error, nothing written', async () => {
    const { code, stderr, file, outDir } = await render(templateDir, '{"rep": {"name": "Mateo",}');
    expect(lines(stderr)).toHaveLength(1);
    expect(lines(stderr)[0]).toMatch(new RegExp(`^${escapeRegExp(file)}: not valid JSON: `));
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('an empty file: exit 1 as invalid JSON', async () => {
    const { code, stderr, file, outDir } = await render(templateDir, '');
    expect(lines(stderr)).toEqual([
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}: not valid JSON`)),
    ]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a missing record file: exit 2 (usage), nothing written', async () => {
    const work = await temp.make('platen-record-');
    const missing = path.join(work, 'nope.json');
    const out = path.join(work, 'piece.pdf');
    const { code, stderr } = await runCli(['render', templateDir, '--record', missing, '--out', out]);
    expect(stderr).toBe(`platen: cannot read ${missing}\n`);
    expect(code).toBe(2);
    expect(await listDir(work)).toEqual([]);
  });

  it('an existing --out file is left untouched by a rejected record', async () => {
    const { file, outDir } = await recordFile(withValues({ fields: { plan: 'gold' } }));
    const out = path.join(outDir, 'piece.pdf');
    await writeFile(out, 'ORIGINAL PROOF');
    const { code, stderr } = await runCli(['render', templateDir, '--record', file, '--out', out]);
    expect(lines(stderr)).toEqual(['fields.plan: must be one of: basic | plus']);
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('ORIGINAL PROOF');
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });

  it('an existing --out file is left untouched by invalid JSON', async () => {
    const { file, outDir } = await recordFile('not json');
    const out = path.join(outDir, 'piece.pdf');
    await writeFile(out, 'ORIGINAL PROOF');
    const { code } = await runCli(['render', templateDir, '--record', file, '--out', out]);
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('ORIGINAL PROOF');
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });
});

describe.concurrent('21 image inputs (insurance-brochure rep.photo)', () => {
  let recordWithPhoto: Awaited<ReturnType<typeof brochureWithPhoto>>;

  beforeAll(async () => {
    recordWithPhoto = await brochureWithPhoto();
  });

  /** A folder holding `record.json` (photo relative to it), the named files, and an empty `out/`. */
  const photoRecord = (photo: string, files: Record<string, Buffer | string>) =>
    recordFile(recordWithPhoto(photo), files);

  const renderBrochure = (file: string, outDir: string) =>
    runCli(['render', BROCHURE_DIR, '--record', file, '--out', path.join(outDir, 'piece.pdf')]);

  it('the sample photo itself renders (control)', async () => {
    const { file, outDir } = await photoRecord('me.png', { 'me.png': await pngBytes(400, 400) });
    const { code, stderr } = await renderBrochure(file, outDir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await listDir(outDir)).toEqual(['piece.pdf']);
  });

  it('a .jpg that holds text: platen render exits 1 and writes nothing', async () => {
    const { file, outDir } = await photoRecord('headshot.jpg', { 'headshot.jpg': 'not a photo\n' });
    const { code, stderr } = await renderBrochure(file, outDir);
    expectProblemLines(stderr, [{ path: 'rep.photo', rule: 'bad_image', message: /^headshot\.jpg: / }]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a missing photo file: platen render exits 1 and writes nothing', async () => {
    const { file, outDir } = await photoRecord('gone.jpg', {});
    const { code, stderr } = await renderBrochure(file, outDir);
    expectProblemLines(stderr, [{ path: 'rep.photo', rule: 'bad_image', message: /^gone\.jpg: / }]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });

  it('a rep photo smaller than PHOTO_MIN_PX (300 × 300), which the brochure does not repeat, is rejected', async () => {
    const { file, outDir } = await photoRecord('tiny.png', { 'tiny.png': await pngBytes(16, 16) });
    const { code, stderr } = await renderBrochure(file, outDir);
    expect(lines(stderr)).toEqual([expect.stringMatching(/^rep\.photo: .*300/)]);
    expect(code).toBe(1);
    expect(await listDir(outDir)).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
