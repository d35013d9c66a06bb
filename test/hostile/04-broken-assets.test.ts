/**
 * Broken assets (#15 item 4): a truncated or damaged image or font in a template package is refused
 * when the package is checked (`validateTemplate`, which upload, `platen validate` and the bundled
 * templates at start-up all go through), naming the file, instead of printing a blank area or
 * failing at publish with a 500. Truncated photos are refused too.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTemplate } from '../../src/validate.js';
import { EL, el, elements, makePackage } from '../support/base-package.js';
import { cleanup, TempDirs, truncated } from '../support/files.js';
import { fontWithLocaOutOfOrder, fontWithSelfReferencingGlyph } from '../support/fonts.js';
import { jpegBytes } from '../support/images.js';
import { type Expected, expectProblemLines, expectProblems } from '../support/problems.js';
import { requireBuiltCli, runCli } from '../support/repo.js';
import {
  client,
  createKey,
  problem,
  profileForm,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const FONT = 'fonts/SourceSans3-Regular.ttf';
const LOGO = `${el(EL.logo)}.src`;

/** The base package with its logo a JPEG (`images/logo.jpg`) of these bytes. */
async function withJpegLogo(bytes: Buffer): Promise<string> {
  const dir = await makePackage(temp, (m) => {
    elements(m)[EL.logo]!.src = 'images/logo.jpg';
  });
  await writeFile(path.join(dir, 'images/logo.jpg'), bytes);
  return dir;
}

/** The base package with its body font rewritten by `damage`. */
async function withFont(damage: (ttf: Buffer) => Buffer): Promise<string> {
  const dir = await makePackage(temp);
  const file = path.join(dir, FONT);
  await writeFile(file, damage(await readFile(file)));
  return dir;
}

interface Case {
  name: string;
  build: () => Promise<string>;
  expected: Expected[];
}

const cases: Case[] = [
  {
    name: 'a JPEG cut in half',
    build: async () => withJpegLogo(truncated(await jpegBytes(), 0.5)),
    expected: [
      { path: LOGO, rule: 'bad_image', message: /^images\/logo\.jpg: the file is truncated or damaged/ },
    ],
  },
  {
    name: 'a JPEG missing only its last bytes',
    build: async () => withJpegLogo(truncated(await jpegBytes(), 0.98)),
    expected: [
      { path: LOGO, rule: 'bad_image', message: /^images\/logo\.jpg: the file is truncated or damaged/ },
    ],
  },
  {
    name: 'a truncated PNG',
    build: async () => {
      const dir = await makePackage(temp);
      const noisy = await sharp(await jpegBytes())
        .png()
        .toBuffer();
      await writeFile(path.join(dir, 'images/logo.png'), truncated(noisy, 0.6));
      return dir;
    },
    expected: [
      { path: LOGO, rule: 'bad_image', message: /^images\/logo\.png: the file is truncated or damaged/ },
    ],
  },
  {
    name: 'a truncated JPEG among the files a data-chosen image can name',
    build: async () => {
      const dir = await makePackage(temp, (m) => {
        Object.assign(elements(m)[EL.logo]!, { src: 'images/plans/{{fields.plan}}.jpg' });
      });
      await mkdir(path.join(dir, 'images/plans'));
      await writeFile(path.join(dir, 'images/plans/basic.jpg'), await jpegBytes());
      await writeFile(path.join(dir, 'images/plans/plus.jpg'), truncated(await jpegBytes(), 0.7));
      return dir;
    },
    expected: [
      {
        path: LOGO,
        rule: 'bad_image',
        message: /^images\/plans\/plus\.jpg: the file is truncated or damaged/,
      },
    ],
  },
  {
    name: 'a truncated JPEG as an image fallback',
    build: async () => {
      const dir = await makePackage(temp, (m) => {
        elements(m)[EL.logo]!.fallback = 'images/fallback.jpg';
      });
      await writeFile(path.join(dir, 'images/fallback.jpg'), truncated(await jpegBytes(), 0.7));
      return dir;
    },
    expected: [
      {
        path: `${el(EL.logo)}.fallback`,
        rule: 'bad_image',
        message: /^images\/fallback\.jpg: the file is truncated or damaged/,
      },
    ],
  },
  ...[0.05, 0.5, 0.999].map((fraction): Case => ({
    name: `a TTF cut to ${fraction * 100}% of its length`,
    build: () => withFont((ttf) => truncated(ttf, fraction)),
    expected: [
      { path: 'fonts.body.regular', rule: 'bad_font', message: `${FONT}: the font file is truncated` },
    ],
  })),
  {
    name: 'a TTF whose glyph locations run backwards',
    build: () => withFont((ttf) => fontWithLocaOutOfOrder(ttf, 'H')),
    expected: [{ path: 'fonts.body.regular', rule: 'bad_font', message: 'negative length' }],
  },
  {
    name: 'a TTF whose H is drawn from itself (it parses; reading the glyph never ends)',
    build: () => withFont((ttf) => fontWithSelfReferencingGlyph(ttf, 'H')),
    expected: [
      { path: 'fonts.body.regular', rule: 'bad_font', message: 'the glyph of U+0048 cannot be read' },
    ],
  },
];

describe.concurrent.each(cases)('a package with $name', ({ build, expected }) => {
  it('is refused by validateTemplate, naming the file', async () => {
    const { problems } = await validateTemplate(await build());
    expectProblems(problems, expected);
  });
});

describe('the same check everywhere a package is checked', () => {
  beforeAll(requireBuiltCli);

  it('platen validate refuses a truncated JPEG, naming it', async () => {
    const dir = await withJpegLogo(truncated(await jpegBytes(), 0.5));
    const { code, stdout } = await runCli(['validate', dir]);
    expectProblemLines(stdout, [{ path: LOGO, rule: 'bad_image', message: 'images/logo.jpg' }]);
    expect(code).toBe(1);
  });

  it('the intact JPEG and fonts are accepted, so each case fails for its own reason', async () => {
    const { problems } = await validateTemplate(await withJpegLogo(await jpegBytes()));
    expect(problems).toEqual([]);
  });
});

describe('over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
    await cleanup();
  });

  it('an upload with a truncated JPEG is a 422 naming the file', async () => {
    const marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing Mia')).key);
    const dir = await withJpegLogo(truncated(await jpegBytes(), 0.5));
    const res = await uploadZip(marketing, await zipFolder(dir));
    expect(res.status, res.bytes.toString()).toBe(422);
    expect(problem(res).errors).toEqual([
      expect.objectContaining({
        path: LOGO,
        rule: 'bad_image',
        message: expect.stringMatching(/^images\/logo\.jpg: /),
      }),
    ]);
  });

  it('a truncated photo is a 422, and the profile keeps no photo', async () => {
    const rep = client(server.url, (await createKey(server, 'rep', 'Rep Dana', 'dana')).key);
    for (const photo of [
      truncated(await jpegBytes(800, 800), 0.5),
      truncated(await jpegBytes(800, 800), 0.98),
    ]) {
      const res = await rep('put', '/api/v1/reps/me', { body: profileForm(undefined, photo) });
      expect(res.status, res.bytes.toString()).toBe(422);
      expect(problem(res).errors).toEqual([
        expect.objectContaining({
          path: 'photo',
          rule: 'image',
          message: expect.stringContaining('the photo is truncated or damaged'),
        }),
      ]);
    }
    expect((await rep('get', '/api/v1/reps/me/photo')).status).toBe(404);
  });
});
