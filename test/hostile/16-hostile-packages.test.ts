/**
 * Hostile template packages over HTTP: every zip oddity (a truncated font, a 6,000-character name,
 * the encryption flag, links, absolute and `..` paths, too many entries, a zip bomb, duplicates,
 * names that are not UTF-8, folders stored as files, unknown compression, shared data, a bad CRC) is
 * a 422 naming the entry as the zip names it, never a 500, and leaves nothing behind. No problem body
 * names a path on the server (#15 item 19).
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, entries } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import { REPO_ROOT } from '../support/repo.js';
import {
  client,
  type Client,
  createKey,
  problem,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { folderEntries, type RawEntry, rawZip } from '../support/zips.js';

let server: TestServer;
let marketing: Client;
/** The valid package every case breaks: the bundled postcard under a new id. */
let valid: RawEntry[];

beforeAll(async () => {
  server = await startTestServer();
  marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing Mia')).key);
  valid = await folderEntries(await makePackage('hostile-postcard', 'Hostile postcard'));
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

const FONT = 'fonts/SourceSans3-Regular.ttf';
const data = (name: string): Buffer => valid.find((e) => e.name === name)!.data!;
/** The valid package with `entry` added. */
const plus = (...extra: RawEntry[]): Buffer => rawZip([...valid, ...extra]);
/** The valid package with the entry named `name` changed. */
const changed = (name: string, change: Partial<RawEntry>): Buffer =>
  rawZip(valid.map((e) => (e.name === name ? { ...e, ...change } : e)));

const LONG_NAME = `images/${'x'.repeat(5990)}.png`;
const DEEP_NAME = `${'folder/'.repeat(857)}logo.png`;
const CP437 = Buffer.from([0x63, 0x61, 0x66, 0x82, 0x2e, 0x70, 0x6e, 0x67]); // "café.png" in CP437

interface Case {
  name: string;
  zip: () => Buffer;
  /** The problem that names the entry (exact path and rule, a fragment of the message). */
  expected: { path: string | RegExp; rule: string; message: string | RegExp };
}

const cases: Case[] = [
  {
    name: 'a truncated TTF',
    zip: () => changed(FONT, { data: data(FONT).subarray(0, 100_000) }),
    expected: {
      path: 'fonts.body.regular',
      rule: 'bad_font',
      message: `${FONT}: the font file is truncated`,
    },
  },
  {
    name: 'a 6,000-character entry name',
    zip: () => plus({ name: LONG_NAME, data: Buffer.from('x') }),
    expected: {
      path: /^images\/x{53}…x{36}\.png \(6001 characters\)$/,
      rule: 'name_too_long',
      message: 'too long',
    },
  },
  {
    name: 'a 6,000-character path of short folder names',
    zip: () => plus({ name: DEEP_NAME, data: Buffer.from('x') }),
    expected: { path: /^(folder\/)+f?o?l?d?e?r?\/?…/, rule: 'name_too_long', message: 'at most 1024 bytes' },
  },
  {
    name: 'the encryption flag',
    zip: () => changed('art/mark.svg', { flags: 0x0801 }),
    expected: { path: 'art/mark.svg', rule: 'encrypted', message: 'without a password' },
  },
  {
    name: 'a symlink',
    zip: () => plus({ name: 'art/link.svg', data: Buffer.from('/etc/passwd'), mode: 0o120777 }),
    expected: { path: 'art/link.svg', rule: 'link', message: 'links and special files' },
  },
  {
    name: 'an absolute path',
    zip: () => plus({ name: '/etc/cron.d/platen', data: Buffer.from('* * * * * root true\n') }),
    expected: { path: '/etc/cron.d/platen', rule: 'path', message: 'absolute path' },
  },
  {
    name: 'a drive-letter path',
    zip: () => plus({ name: 'C:/evil.txt', data: Buffer.from('x') }),
    expected: { path: 'C:/evil.txt', rule: 'path', message: 'absolute path' },
  },
  {
    name: 'a path with ..',
    zip: () => plus({ name: 'art/../../evil.txt', data: Buffer.from('x') }),
    expected: { path: 'art/../../evil.txt', rule: 'path', message: 'outside the package' },
  },
  {
    name: 'a backslash in a name',
    zip: () => plus({ name: '..\\evil.txt', data: Buffer.from('x') }),
    expected: { path: '..\\evil.txt', rule: 'name', message: 'backslash' },
  },
  {
    name: 'a NUL in a name',
    zip: () => plus({ name: 'art/mark.svg\u0000.png', data: Buffer.from('x') }),
    expected: { path: 'art/mark.svg\u0000.png', rule: 'name', message: 'control characters' },
  },
  {
    name: 'too many entries',
    zip: () =>
      plus(...Array.from({ length: 500 }, (_, i) => ({ name: `many/${i}.txt`, data: Buffer.from('x') }))),
    expected: { path: 'package', rule: 'too_many_files', message: 'at most 500' },
  },
  {
    name: 'a zip bomb by ratio (20 MB of zeros in 20 KB)',
    zip: () => plus({ name: 'images/zeros.png', data: Buffer.alloc(20 * 1024 * 1024) }),
    expected: { path: 'images/zeros.png', rule: 'zip_bomb', message: 'inflates more than 100 times' },
  },
  {
    name: 'entries that share their data',
    zip: () => plus({ name: 'art/copy.svg', data: data('art/mark.svg'), sameDataAs: 1 }),
    expected: { path: 'art/copy.svg', rule: 'overlap', message: 'shares its data' },
  },
  {
    name: 'a duplicate name',
    zip: () => plus({ name: 'template.json', data: Buffer.from('{}') }),
    expected: { path: 'template.json', rule: 'duplicate', message: 'two entries of this name' },
  },
  {
    name: 'a file and a folder of the same name',
    zip: () => plus({ name: 'images', data: Buffer.from('x') }),
    expected: { path: 'images', rule: 'duplicate', message: 'the name of a folder' },
  },
  {
    name: 'a name that is not UTF-8 (CP437, no UTF-8 flag)',
    zip: () => plus({ name: CP437, data: Buffer.from('x'), flags: 0 }),
    expected: { path: 'caf\ufffd.png', rule: 'name_encoding', message: 'not UTF-8' },
  },
  {
    name: 'a name flagged UTF-8 that is not',
    zip: () => plus({ name: CP437, data: Buffer.from('x') }),
    expected: { path: 'caf\ufffd.png', rule: 'name_encoding', message: 'not UTF-8' },
  },
  {
    name: 'a folder stored as a file (a folder mode, no slash)',
    zip: () => plus({ name: 'extra', mode: 0o040755 }),
    expected: { path: 'extra', rule: 'folder', message: 'must end with /' },
  },
  {
    name: 'a folder entry that holds data',
    zip: () => plus({ name: 'extra/', data: Buffer.from('data in a folder') }),
    expected: { path: 'extra/', rule: 'folder', message: 'holds data' },
  },
  {
    name: 'an unknown compression method (LZMA)',
    zip: () => changed('art/mark.svg', { method: 14 }),
    expected: { path: 'art/mark.svg', rule: 'compression', message: 'method 14' },
  },
  {
    name: 'a wrong CRC',
    zip: () => changed('art/mark.svg', { crc: 0x12345678 }),
    expected: { path: 'art/mark.svg', rule: 'bad_entry', message: 'checksum' },
  },
  {
    name: 'a declared size smaller than the data',
    zip: () => changed('art/mark.svg', { size: 10 }),
    expected: { path: 'art/mark.svg', rule: 'bad_entry', message: 'cannot be read' },
  },
  {
    name: 'a zip cut short',
    zip: () => rawZip(valid).subarray(0, 200_000),
    expected: { path: 'package', rule: 'not_a_zip', message: 'not a readable zip file' },
  },
];

/** Absolute paths on this machine an error body could leak. */
const serverPaths = (): string[] => [
  server.dataDir,
  tmpdir(),
  REPO_ROOT,
  path.join(server.dataDir, 'staging'),
];

describe.each(cases)('a package with $name', ({ zip, expected }) => {
  test('is a 422 naming the entry, naming no server path, leaving nothing behind', async () => {
    const res = await uploadZip(marketing, zip());
    const text = res.bytes.toString();
    expect(res.status, text.slice(0, 500)).toBe(422);
    const body = problem(res);
    const named = body.errors?.find((e) => e.rule === expected.rule);
    expect(named, text.slice(0, 2000)).toBeDefined();
    if (typeof expected.path === 'string') expect(named!.path).toBe(expected.path);
    else expect(named!.path).toMatch(expected.path);
    expect(named!.path.length).toBeLessThan(200);
    if (typeof expected.message === 'string') expect(named!.message).toContain(expected.message);
    else expect(named!.message).toMatch(expected.message);
    for (const p of serverPaths()) expect(text).not.toContain(p);
    // The uploaded zip is removed once the response has closed, which the client may see first.
    await expect.poll(() => entries(path.join(server.dataDir, 'staging'))).toEqual([]);
    expect(await entries(path.join(server.dataDir, 'packages'))).not.toContain('hostile-postcard');
  });
});

test('the unbroken package is accepted, so each case fails for its own reason', async () => {
  const res = await uploadZip(marketing, rawZip(valid));
  expect(res.status, res.bytes.toString().slice(0, 500)).toBe(201);
  expect(
    JSON.parse(await readFile(path.join(server.dataDir, 'packages/hostile-postcard/1/template.json'), 'utf8'))
      .id,
  ).toBe('hostile-postcard');
});
