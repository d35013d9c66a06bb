/**
 * The designer's API on a real server: drafts saved from a version with only what changed, every
 * problem of a draft at once in words, package export and import, draft previews cached by content,
 * asset uploads checked as package files are, the changes between versions, and approval before
 * publishing where the organisation requires it (PLATEN_REQUIRE_APPROVAL=true here).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DesignProblem } from '../../src/template/design-problems.js';
import { cleanup, tempDir } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { TEMPLATES_DIR } from '../support/repo.js';
import {
  client,
  type Client,
  createKey,
  problem,
  type Reply,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';

const ID = 'postcard-6x4';
const BUNDLED_DIR = path.join(TEMPLATES_DIR, ID);

interface Element {
  name: string;
  x: number;
  y: number;
  size?: number;
  text?: string;
  fill?: string;
}
interface Manifest {
  id: string;
  pages: { name: string; elements: Element[] }[];
  prospect: Record<string, { label?: string; default?: string }>;
  fields: Record<string, { label?: string; default?: string }>;
}

let server: TestServer;
/** Morgan creates versions; Avery, also marketing, approves them. */
let morgan: Client;
let avery: Client;
let rep: Client;
let bundled: Manifest;

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_REQUIRE_APPROVAL: 'true' } });
  morgan = client(server.url, (await createKey(server, 'marketing', 'Morgan')).key);
  avery = client(server.url, (await createKey(server, 'marketing', 'Avery')).key);
  rep = client(server.url, (await createKey(server, 'rep', 'Dana', 'dana')).key);
  bundled = JSON.parse(await readFile(path.join(BUNDLED_DIR, 'template.json'), 'utf8')) as Manifest;
}, 60_000);

afterAll(async () => {
  await server.close();
  await cleanup();
});

const copy = (): Manifest => structuredClone(bundled);
const element = (m: Manifest, name: string): Element =>
  m.pages.flatMap((p) => p.elements).find((e) => e.name === name)!;

/** A draft as multipart: the manifest, and files named by their package paths. */
function draftForm(manifest: unknown, files: Record<string, Buffer> = {}): FormData {
  const form = new FormData();
  form.append('manifest', JSON.stringify(manifest));
  for (const [name, bytes] of Object.entries(files))
    form.append(name, new Blob([new Uint8Array(bytes)]), name);
  return form;
}

const saveDraft = (api: Client, manifest: unknown, query = '?from=1', files?: Record<string, Buffer>) =>
  api('post', `/api/v1/templates/${ID}/drafts${query}`, { body: draftForm(manifest, files) });

const versionCount = async (): Promise<number> => {
  const res = await morgan('get', `/api/v1/templates/${ID}/versions`);
  return (res.json as { versions: unknown[] }).versions.length;
};

/** Package files under a folder, as sorted package paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const found = await readdir(dir, { recursive: true, withFileTypes: true });
  return found
    .filter((f) => f.isFile())
    .map((f) => path.relative(dir, path.join(f.parentPath, f.name)).split(path.sep).join('/'))
    .sort();
}

/** A zip's entries, as unzip lists them. */
async function zipEntries(zip: Buffer): Promise<string[]> {
  const file = path.join(await tempDir('designer-zip-'), 'package.zip');
  await writeFile(file, zip);
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort();
}

const created = (res: Reply): number => {
  expect(res.status, res.bytes.toString()).toBe(201);
  return (res.json as { version: number }).version;
};

describe('drafts', () => {
  test('a draft from version 1 with one element moved, only the manifest sent, stores every file', async () => {
    const manifest = copy();
    element(manifest, 'coverHeadline').x += 12;
    const version = created(await saveDraft(morgan, manifest));
    const stored = path.join(server.dataDir, 'packages', ID, String(version));
    expect(await filesUnder(stored)).toEqual(await filesUnder(BUNDLED_DIR));
    const saved = JSON.parse(await readFile(path.join(stored, 'template.json'), 'utf8')) as Manifest;
    expect(element(saved, 'coverHeadline').x).toBe(element(bundled, 'coverHeadline').x + 12);
    // The draft's files are linked from version 1's, never written through: version 1 is unchanged.
    const first = path.join(server.dataDir, 'packages', ID, '1', 'template.json');
    expect(await readFile(first, 'utf8')).toBe(
      await readFile(path.join(BUNDLED_DIR, 'template.json'), 'utf8'),
    );
  });

  test('a dry run validates and stores nothing', async () => {
    const before = await versionCount();
    const res = await saveDraft(morgan, copy(), '?from=1&dryRun=true');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ problems: [] });
    expect(await versionCount()).toBe(before);
  });

  test('a draft with four mistakes gets one 422 naming each by element or input, in words; nothing stored', async () => {
    const before = await versionCount();
    const manifest = copy();
    element(manifest, 'coverLogo').x = 500;
    element(manifest, 'coverHeadline').text = 'Hello {{prospect.nickname}}';
    element(manifest, 'replyPlate').fill = 'purple';
    // A sample's mistake is reported with the elements', though the template does not compile.
    (
      manifest as unknown as { samples: { record: { prospect: Record<string, string> } }[] }
    ).samples[0]!.record.prospect.zip = 'ME 04101';
    const res = await saveDraft(morgan, manifest);
    expect(res.status).toBe(422);
    const errors = problem(res).errors as DesignProblem[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          element: 'coverLogo',
          page: 'front',
          message: expect.stringContaining('coverLogo'),
        }),
        expect.objectContaining({ element: 'coverHeadline', page: 'front' }),
        expect.objectContaining({
          element: 'replyPlate',
          page: 'front',
          message: expect.stringContaining('purple'),
        }),
        expect.objectContaining({
          input: 'ZIP code',
          message: expect.stringContaining('5 digits, or ZIP+4'),
        }),
      ]),
    );
    expect(errors).toHaveLength(4);
    for (const e of errors) {
      expect(e.message).toContain(e.element ?? e.input);
      expect(e.message).not.toMatch(/\w\[\d+\]|\^|\$\/|\.elements\./);
    }
    expect(await versionCount()).toBe(before);
    expect(
      (await readdir(path.join(server.dataDir, 'staging'))).filter((n) => n.startsWith('draft-')),
    ).toEqual([]);
  });

  test("a manifest whose id is another template's is refused in words", async () => {
    const res = await saveDraft(morgan, { ...copy(), id: 'insurance-brochure' });
    expect(res.status).toBe(422);
    expect(problem(res).errors).toEqual([
      expect.objectContaining({
        path: 'id',
        rule: 'id_mismatch',
        message: expect.stringContaining('this draft is of template "postcard-6x4"'),
      }),
    ]);
  });

  test('file paths are checked as zip entries are: no way out of the package, no unknown kinds', async () => {
    const res = await saveDraft(morgan, copy(), '?from=1', {
      '../evil.jpg': Buffer.from('x'),
      'notes/run.sh': Buffer.from('x'),
    });
    expect(res.status).toBe(422);
    expect(problem(res).errors!.map((e) => [e.path, e.rule])).toEqual([
      ['../evil.jpg', 'path'],
      ['notes/run.sh', 'file_type'],
    ]);
  });

  test('a package upload answers the same words', async () => {
    const manifest = copy();
    element(manifest, 'coverLogo').x = 500;
    const zip = await zipWith(manifest);
    const res = await uploadZip(morgan, zip);
    expect(res.status).toBe(422);
    expect(problem(res).errors).toEqual([
      expect.objectContaining({ element: 'coverLogo', page: 'front', path: 'pages[0].elements[3]' }),
    ]);
  });

  test('nothing unprintable: locked text that overflows and an element outside the bleed, named', async () => {
    const manifest = copy();
    element(manifest, 'coverSubhead').size = 15;
    element(manifest, 'replyPlate').x = 400;
    const res = await saveDraft(morgan, manifest, '?from=1&dryRun=true');
    expect(res.status).toBe(422);
    // Geometry is checked as each element is compiled; locked text is fitted once all are.
    expect(problem(res).errors).toEqual([
      expect.objectContaining({
        rule: 'outside_page',
        element: 'replyPlate',
        message: expect.stringContaining('bleed'),
      }),
      expect.objectContaining({
        rule: 'overflow',
        element: 'coverSubhead',
        message: expect.stringContaining('does not fit'),
      }),
    ]);
  });

  test('nothing unprintable: an image under 150 ppi at its placed size, named', async () => {
    const manifest = copy();
    (element(manifest, 'coverPhoto') as Element & { src: string }).src = 'images/small.jpg';
    // 600 × 400 pixels over the card's 6.25 × 4.25 inches: about 96 ppi.
    const res = await saveDraft(morgan, manifest, '?from=1&dryRun=true', {
      'images/small.jpg': await gradientJpeg(600, 400),
    });
    expect(res.status).toBe(422);
    const errors = problem(res).errors as DesignProblem[];
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatchObject({ element: 'coverPhoto', page: 'front' });
  });

  test('reps may not save drafts', async () => {
    expect((await saveDraft(rep, copy())).status).toBe(403);
  });
});

/** The bundled postcard's package, zipped through the export route, with another manifest. */
async function zipWith(manifest: Manifest): Promise<Buffer> {
  const dir = await tempDir('designer-package-');
  execFileSync('cp', ['-r', `${BUNDLED_DIR}/.`, dir]);
  await writeFile(path.join(dir, 'template.json'), JSON.stringify(manifest));
  const zip = path.join(dir, '..', `${path.basename(dir)}.zip`);
  execFileSync('zip', ['-qr', zip, '.'], { cwd: dir });
  return readFile(zip);
}

describe('package export', () => {
  test('a version exports as a zip of its package, which imports as a draft with the same manifest', async () => {
    const res = await morgan('get', `/api/v1/templates/${ID}/versions/1/package`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(await zipEntries(res.bytes)).toEqual(await filesUnder(BUNDLED_DIR));
    const version = created(await uploadZip(morgan, res.bytes));
    const again = await morgan('get', `/api/v1/templates/${ID}/versions/${version}/package`);
    const manifestOf = async (zip: Buffer) => {
      const file = path.join(await tempDir('designer-zip-'), 'p.zip');
      await writeFile(file, zip);
      return JSON.parse(
        execFileSync('unzip', ['-p', file, 'template.json'], { encoding: 'utf8' }),
      ) as unknown;
    };
    expect(await manifestOf(again.bytes)).toEqual(await manifestOf(res.bytes));
  });

  test('a version that does not exist is 404', async () => {
    expect((await morgan('get', `/api/v1/templates/${ID}/versions/999/package`)).status).toBe(404);
  });
});

describe('previews', () => {
  const preview = (manifest: unknown, query: string) =>
    morgan('post', `/api/v1/templates/${ID}/drafts/preview${query}`, { json: { manifest, from: 1 } });

  test('a draft page is a PNG of its bleed box at the scale asked; the same again is a cache hit', async () => {
    const manifest = copy();
    element(manifest, 'coverHeadline').x += 3;
    const first = await preview(manifest, '?page=1&scale=2&sample=0');
    expect(first.status, first.bytes.toString()).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/png');
    expect(first.headers.get('x-platen-cache')).toBe('miss');
    // 6 × 4 in and 0.125 in of bleed on each side: 450 × 306 points, at 2 pixels a point.
    const meta = await sharp(first.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 900, 612]);
    const second = await preview(manifest, '?page=1&scale=2&sample=0');
    expect(second.headers.get('x-platen-cache')).toBe('hit');
    expect(second.bytes.equals(first.bytes)).toBe(true);
    const back = await preview(manifest, '?page=2&scale=2&sample=0');
    expect(back.headers.get('x-platen-cache')).toBe('miss');
    expect(back.bytes.equals(first.bytes)).toBe(false);
  });

  test('a draft that does not compile is answered with its problems in words', async () => {
    const manifest = copy();
    element(manifest, 'replyPlate').fill = 'purple';
    const res = await preview(manifest, '?page=1');
    expect(res.status).toBe(422);
    expect(problem(res).errors).toEqual([expect.objectContaining({ element: 'replyPlate', page: 'front' })]);
  });

  test('a page or sample the draft lacks is named as the request’s; a sample that breaks an input, by the input', async () => {
    const page = await preview(copy(), '?page=9');
    expect(page.status).toBe(422);
    expect(problem(page).errors).toEqual([
      { path: 'page', rule: 'not_found', message: 'the template has 2 page(s)' },
    ]);
    const sample = await preview(copy(), '?page=1&sample=7');
    expect(sample.status).toBe(422);
    expect(problem(sample).errors).toEqual([
      { path: 'sample', rule: 'not_found', message: 'there is no sample 8: add a sample record' },
    ]);
    const manifest = copy();
    (
      manifest as unknown as { samples: { record: { prospect: Record<string, string> } }[] }
    ).samples[0]!.record.prospect.zip = 'ME 04101';
    const bad = await preview(manifest, '?page=1&sample=0');
    expect(bad.status).toBe(422);
    expect(problem(bad).errors).toEqual([
      expect.objectContaining({
        path: 'samples[0].record.prospect.zip',
        input: 'ZIP code',
        message: expect.stringContaining('5 digits, or ZIP+4'),
      }),
    ]);
  });
});

describe('assets', () => {
  const upload = (api: Client, file: Buffer, name: string) => {
    const form = new FormData();
    form.append('path', name);
    form.append('file', new Blob([new Uint8Array(file)]), path.basename(name));
    return api('post', `/api/v1/templates/${ID}/assets`, { body: form });
  };

  test('a font and an image are accepted, and a draft names them by their sha256', async () => {
    const font = await readFile(path.join(BUNDLED_DIR, 'fonts', 'SourceSans3-Bold.ttf'));
    const fontRes = await upload(morgan, font, 'fonts/Brand.ttf');
    expect(fontRes.status, fontRes.bytes.toString()).toBe(201);
    expect(fontRes.json).toMatchObject({ path: 'fonts/Brand.ttf', kind: 'font' });
    const photo = await gradientJpeg(1900, 1300);
    const imageRes = await upload(morgan, photo, 'images/spring.jpg');
    expect(imageRes.status).toBe(201);
    expect(imageRes.json).toMatchObject({
      path: 'images/spring.jpg',
      kind: 'image',
      width: 1900,
      height: 1300,
    });
    const sha = (imageRes.json as { sha256: string }).sha256;

    const manifest = copy() as Manifest & { pages: { elements: (Element & { src?: string })[] }[] };
    (element(manifest, 'coverPhoto') as Element & { src: string }).src = 'images/spring.jpg';
    const res = await morgan('post', `/api/v1/templates/${ID}/drafts/preview?page=1&scale=0.5`, {
      json: { manifest, from: 1, assets: { 'images/spring.jpg': sha } },
    });
    expect(res.status, res.bytes.toString()).toBe(200);
    // Another person's asset is not theirs to use.
    const theirs = await avery('post', `/api/v1/templates/${ID}/drafts/preview?page=1&scale=0.5`, {
      json: { manifest, from: 1, assets: { 'images/spring.jpg': sha } },
    });
    expect(theirs.status).toBe(422);
    expect(problem(theirs).errors).toEqual([
      expect.objectContaining({ path: 'images/spring.jpg', rule: 'not_an_upload' }),
    ]);
  });

  test('a text file renamed .ttf is refused in words', async () => {
    const res = await upload(
      morgan,
      Buffer.from('these are not the glyphs you are looking for\n'),
      'fonts/Fake.ttf',
    );
    expect(res.status).toBe(422);
    expect(problem(res).errors).toEqual([
      expect.objectContaining({
        rule: 'bad_font',
        message: expect.stringContaining('not a TrueType or OpenType font'),
      }),
    ]);
  });
});

describe('changes', () => {
  test('moving and restyling elements and relabelling an input are listed in words', async () => {
    const manifest = copy();
    element(manifest, 'coverHeadline').x += 10;
    element(manifest, 'replyPlate').fill = 'sand';
    manifest.prospect.zip!.label = 'Postcode';
    const version = created(await saveDraft(morgan, manifest));
    const res = await morgan('get', `/api/v1/templates/${ID}/versions/${version}/changes`);
    expect(res.status).toBe(200);
    // Against the version before it, which the export test above imported unchanged from version 1.
    expect((res.json as { changes: unknown[] }).changes).toEqual([
      {
        what: 'element',
        name: 'coverHeadline',
        change: 'moved',
        detail: expect.stringMatching(/^from 24, 22 to 34, 22 pt$/),
      },
      {
        what: 'element',
        name: 'replyPlate',
        change: 'restyled',
        detail: 'Fill from "white" to "sand"',
      },
      { what: 'input', name: 'Postcode', change: 'changed', detail: 'label from "ZIP code" to "Postcode"' },
    ]);
  });
});

describe('approval (PLATEN_REQUIRE_APPROVAL=true)', () => {
  test('a draft is published only once someone other than its creator approved it; the history shows who', async () => {
    const version = created(await saveDraft(morgan, copy()));
    const publish = () => morgan('post', `/api/v1/templates/${ID}/versions/${version}/publish`);
    const refused = await publish();
    expect(refused.status).toBe(409);
    expect(problem(refused).code).toBe('not_approved');
    const own = await morgan('post', `/api/v1/templates/${ID}/versions/${version}/approve`);
    expect(own.status).toBe(403);
    expect(problem(own).detail).toContain('not its creator');
    const approved = await avery('post', `/api/v1/templates/${ID}/versions/${version}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ approvedBy: 'Avery', approvedAt: expect.any(String) });
    expect((await avery('post', `/api/v1/templates/${ID}/versions/${version}/approve`)).status).toBe(409);
    expect((await publish()).status).toBe(200);
    const history = await morgan('get', `/api/v1/templates/${ID}/versions`);
    expect((history.json as { versions: unknown[] }).versions).toContainEqual(
      expect.objectContaining({ version, state: 'published', createdBy: 'Morgan', approvedBy: 'Avery' }),
    );
  });
});

describe('element kinds', () => {
  test('every role reads the kinds, page presets and pattern presets', async () => {
    const res = await rep('get', '/api/v1/element-kinds');
    expect(res.status).toBe(200);
    const body = res.json as {
      kinds: { type: string; properties: unknown[]; defaults: { type: string } }[];
      pagePresets: { id: string; width: number }[];
      patternPresets: { id: string; description: string }[];
    };
    expect(body.kinds.map((k) => k.type)).toEqual([
      'text',
      'image',
      'rect',
      'ellipse',
      'line',
      'svg',
      'qr',
      'address',
      'imb',
    ]);
    for (const kind of body.kinds) expect(kind.defaults.type).toBe(kind.type);
    expect(body.pagePresets).toContainEqual(expect.objectContaining({ id: 'letter', width: 612 }));
    expect(body.patternPresets).toContainEqual(
      expect.objectContaining({ id: 'us-zip', description: '5 digits, or ZIP+4 such as 04101-1234' }),
    );
  });
});
