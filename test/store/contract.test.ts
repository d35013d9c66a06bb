/**
 * The store contract: what every adapter behind src/store/store.ts must do, run against each of
 * them. A new adapter (PostgreSQL, S3) adds its factory to ADAPTERS and passes this file unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { JobSpec, Store } from '../../src/store/store.js';

interface Adapter {
  name: string;
  /** A new, empty store, and a folder on the file system its packages are staged in. */
  open(dir: string): Promise<{ store: Store; staging: string }>;
  /** Opens the same store again (a restart). */
  reopen(dir: string): Promise<Store>;
  /**
   * Leaves what a crash between storing a version's package and its row leaves behind; returns what
   * the store's sweep must remove.
   */
  halfStoredPackage(dir: string, templateId: string, version: number): Promise<string>;
}

const sqlite = (dir: string) => new SqliteStore(dir, new LocalBlobStore(path.join(dir, 'blobs')));

const ADAPTERS: Adapter[] = [
  {
    name: 'SQLite and local files',
    open: async (dir) => ({ store: sqlite(dir), staging: path.join(dir, 'staging') }),
    reopen: async (dir) => sqlite(dir),
    halfStoredPackage: async (dir, templateId, version) => {
      const folder = path.join(dir, 'packages', templateId, String(version));
      await mkdir(folder, { recursive: true });
      await writeFile(path.join(folder, 'template.json'), '{}');
      return folder;
    },
  },
];

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const details = {
  name: 'Dana Reyes',
  title: 'Agent',
  phone: '',
  email: '',
  licenseNumber: 'L-1',
  photoSha256: null,
};
/** A spec with every part set: it comes back as it went in. */
const spec: JobSpec = {
  map: { 'First Name': 'firstName' },
  rep: details,
  repId: 'dana',
  reps: { column: 'Rep', profiles: { dana: details } },
  onlyRows: [2, 5],
  marks: true,
  impose: { width: 1296, height: 864 },
  chunkRows: 100,
};
const job = (id: string, repId: string | null = null) => ({
  id,
  keyId: 'key-1',
  repId,
  templateId: 'mailer',
  version: 1,
  kind: 'pdf' as const,
  spec,
  total: 10,
});

describe.each(ADAPTERS)('the store contract: $name', (adapter) => {
  let dir: string;
  let store: Store;
  let staging: string;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  /** Moves the clock on, so that what is stored next is stored later. */
  const later = (ms = 1000) => vi.setSystemTime((clock += ms));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-contract-'));
    dirs.push(dir);
    ({ store, staging } = await adapter.open(dir));
    vi.useFakeTimers({ toFake: ['Date'] });
    later();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  /** A package folder in staging, holding one file. */
  async function staged(name: string): Promise<string> {
    const folder = path.join(staging, name);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'template.json'), `{"name":"${name}"}`);
    return folder;
  }
  const addVersion = async (templateId: string, state: 'draft' | 'published' = 'draft') =>
    store.templates.addVersion({
      templateId,
      name: `${templateId} name`,
      stagedDir: await staged(`${templateId}-${Math.random()}`),
      manifest: { id: templateId, name: `${templateId} name`, pages: [] },
      report: [],
      createdBy: 'marketing key',
      state,
    });

  describe('keys', () => {
    it('refuse a rep key whose rep has no profile (KeyService makes it first)', async () => {
      await expect(
        store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k')),
      ).rejects.toThrow();
      await store.reps.ensure('dana');
      await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k'));
      expect(await store.keys.count()).toBe(1);
    });

    it('finds a live key by the hash of its secret, and no other', async () => {
      await store.reps.ensure('dana');
      const key = await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('secret'));
      expect(key).toMatchObject({ role: 'rep', name: 'Dana', repId: 'dana', revokedAt: null });
      expect(await store.keys.findLive(hash('secret'))).toEqual(key);
      expect(await store.keys.findLive(hash('other'))).toBeNull();
    });

    it('refuses a second key with the same hash', async () => {
      await store.keys.create({ role: 'admin', name: 'A', repId: null }, hash('same'));
      await expect(
        store.keys.create({ role: 'admin', name: 'B', repId: null }, hash('same')),
      ).rejects.toThrow();
      expect(await store.keys.count()).toBe(1);
    });

    it('revokes a live key once, ending its sessions with it', async () => {
      const key = await store.keys.create({ role: 'marketing', name: 'M', repId: null }, hash('m'));
      const other = await store.keys.create({ role: 'marketing', name: 'N', repId: null }, hash('n'));
      await store.sessions.start(hash('s1'), key.id, Date.now() + 60_000);
      await store.sessions.start(hash('s2'), other.id, Date.now() + 60_000);
      expect(await store.keys.revoke(key.id)).toBe(true);
      expect(await store.keys.revoke(key.id)).toBe(false);
      expect(await store.keys.revoke('no-such-key')).toBe(false);
      expect(await store.keys.findLive(hash('m'))).toBeNull();
      expect(await store.sessions.find(hash('s1'))).toBeNull();
      expect(await store.sessions.find(hash('s2'))).not.toBeNull();
    });

    it('lists every key oldest first, revoked ones included', async () => {
      const a = await store.keys.create({ role: 'admin', name: 'A', repId: null }, hash('a'));
      later();
      const b = await store.keys.create({ role: 'marketing', name: 'B', repId: null }, hash('b'));
      await store.keys.revoke(a.id);
      const list = await store.keys.list();
      expect(list.map((k) => k.id)).toEqual([a.id, b.id]);
      expect(list[0]!.revokedAt).not.toBeNull();
      expect(await store.keys.count()).toBe(2);
    });
  });

  describe('sessions', () => {
    it('are found while they last and their key is live', async () => {
      await store.reps.ensure('dana');
      const key = await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k'));
      const expires = Date.now() + 60_000;
      await store.sessions.start(hash('token'), key.id, expires);
      expect(await store.sessions.find(hash('token'))).toEqual({ keyId: key.id, expires, key });
      expect(await store.sessions.find(hash('other'))).toBeNull();
      later(60_000);
      expect(await store.sessions.find(hash('token'))).toBeNull();
    });

    it('end when ended, and expired ones are deleted as a new one starts', async () => {
      await store.reps.ensure('dana');
      const key = await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k'));
      await store.sessions.start(hash('one'), key.id, Date.now() + 60_000);
      await store.sessions.start(hash('two'), key.id, Date.now() + 60_000);
      await store.sessions.end(hash('one'));
      expect(await store.sessions.find(hash('one'))).toBeNull();
      const start = clock;
      later(120_000);
      await store.sessions.start(hash('three'), key.id, Date.now() + 60_000);
      // Back before `two` expired: had it only been hidden, not deleted, it would be found again.
      vi.setSystemTime(start);
      expect(await store.sessions.find(hash('two'))).toBeNull();
      expect(await store.sessions.find(hash('three'))).not.toBeNull();
    });
  });

  describe('rep profiles', () => {
    it('are made empty on first use, and kept by later uses', async () => {
      expect(await store.reps.get('dana')).toBeNull();
      const made = await store.reps.ensure('dana');
      expect(made).toMatchObject({
        id: 'dana',
        name: '',
        title: '',
        phone: '',
        email: '',
        licenseNumber: '',
        photoSha256: null,
      });
      await store.reps.update('dana', { name: 'Dana Reyes' });
      expect((await store.reps.ensure('dana')).name).toBe('Dana Reyes');
    });

    it('take partial updates, making the profile if needed, and list by id', async () => {
      const updated = await store.reps.update('zoe', { title: 'Agent', photoSha256: hash('photo') });
      expect(updated).toMatchObject({ id: 'zoe', title: 'Agent', name: '', photoSha256: hash('photo') });
      expect(await store.reps.get('zoe')).toEqual(updated);
      await store.reps.update('zoe', { name: 'Zoe' });
      expect(await store.reps.get('zoe')).toMatchObject({ name: 'Zoe', title: 'Agent' });
      await store.reps.ensure('adam');
      expect((await store.reps.list()).map((r) => r.id)).toEqual(['adam', 'zoe']);
    });
  });

  describe('templates', () => {
    it('number versions from 1 and take the staged package, which a restart still has', async () => {
      const stagedDir = await staged('flyer-package');
      const first = await store.templates.addVersion({
        templateId: 'flyer',
        name: 'Flyer',
        stagedDir,
        manifest: { id: 'flyer', name: 'Flyer', nested: { list: [1, 2] } },
        report: [{ path: 'a', rule: 'b', message: 'c' }],
        createdBy: 'marketing key',
        state: 'draft',
      });
      expect(first).toMatchObject({
        templateId: 'flyer',
        version: 1,
        name: 'Flyer',
        state: 'draft',
        manifest: { id: 'flyer', name: 'Flyer', nested: { list: [1, 2] } },
        report: [{ path: 'a', rule: 'b', message: 'c' }],
        createdBy: 'marketing key',
        publishedBy: null,
        retiredBy: null,
      });
      expect(await stat(stagedDir).catch(() => null)).toBeNull();
      expect((await addVersion('flyer')).version).toBe(2);
      expect((await addVersion('other')).version).toBe(1);
      await store.close();
      store = await adapter.reopen(dir);
      const folder = await store.templates.packageDir('flyer', 1);
      expect(await readFile(path.join(folder, 'template.json'), 'utf8')).toBe('{"name":"flyer-package"}');
      expect((await store.templates.versions('flyer')).map((v) => v.version)).toEqual([1, 2]);
    });

    it('number concurrent uploads of one template apart', async () => {
      const stored = await Promise.all([addVersion('flyer'), addVersion('flyer'), addVersion('flyer')]);
      expect(stored.map((v) => v.version).sort()).toEqual([1, 2, 3]);
    });

    it('are published at once when stored so, by whoever stored them', async () => {
      const v = await addVersion('bundled', 'published');
      expect(v).toMatchObject({ state: 'published', publishedBy: 'marketing key' });
      expect(v.publishedAt).toBe(v.createdAt);
    });

    it('answer null for what is not stored', async () => {
      expect(await store.templates.get('nothing', 1)).toBeNull();
      expect(await store.templates.latestPublished('nothing')).toBeNull();
      expect(await store.templates.versions('nothing')).toEqual([]);
      expect(await store.templates.setState('nothing', 1, 'published', 'm')).toBeNull();
    });

    it('move between states once: of two concurrent publishes one wins', async () => {
      await addVersion('flyer');
      const both = await Promise.all([
        store.templates.setState('flyer', 1, 'published', 'one'),
        store.templates.setState('flyer', 1, 'published', 'two'),
      ]);
      expect(both.filter((v) => v !== null)).toHaveLength(1);
      const retired = await store.templates.setState('flyer', 1, 'retired', 'admin');
      expect(retired).toMatchObject({ state: 'retired', retiredBy: 'admin' });
      expect(await store.templates.setState('flyer', 1, 'retired', 'admin')).toBeNull();
      const again = await store.templates.setState('flyer', 1, 'published', 'marketing');
      expect(again).toMatchObject({
        state: 'published',
        publishedBy: 'marketing',
        retiredBy: null,
        retiredAt: null,
      });
    });

    it('list every template by id with its latest and latest published versions', async () => {
      await addVersion('b');
      await addVersion('a', 'published');
      await addVersion('a');
      await addVersion('a', 'published');
      await addVersion('a');
      await store.templates.setState('a', 3, 'retired', 'm');
      expect(await store.templates.latestPublished('a')).toMatchObject({ version: 1 });
      const list = await store.templates.list();
      expect(list.map((t) => [t.id, t.latest.version, t.published?.version ?? null])).toEqual([
        ['a', 4, 1],
        ['b', 1, null],
      ]);
    });

    it('sweep away packages that have no version stored', async () => {
      await addVersion('flyer');
      const orphan = await adapter.halfStoredPackage(dir, 'flyer', 2);
      expect(await store.sweep()).toEqual([orphan]);
      expect(await store.sweep()).toEqual([]);
      expect(await store.templates.get('flyer', 1)).not.toBeNull();
      expect(
        await stat(path.join(await store.templates.packageDir('flyer', 1), 'template.json')),
      ).toBeTruthy();
    });
  });

  describe('renders', () => {
    const render = (templateId: string, version: number, repId: string | null) => ({
      keyId: 'key-1',
      repId,
      templateId,
      version,
      recordSha256: hash('record'),
      outputSha256: hash('output'),
      bytes: 1234,
      pieceCode: null,
    });

    it('are kept under a fresh id, listed newest first, filtered by template and rep', async () => {
      const first = await store.renders.add(render('flyer', 1, 'dana'));
      later();
      const second = await store.renders.add(render('flyer', 2, 'zoe'));
      later();
      const third = await store.renders.add(render('postcard', 1, 'dana'));
      expect(first.id).not.toBe(second.id);
      expect(await store.renders.get(first.id)).toEqual(first);
      expect(await store.renders.get('0000000000000000')).toBeNull();
      const ids = async (filter: { templateId?: string; repId?: string; limit: number }) =>
        (await store.renders.list(filter)).map((r) => r.id);
      expect(await ids({ limit: 10 })).toEqual([third.id, second.id, first.id]);
      expect(await ids({ limit: 2 })).toEqual([third.id, second.id]);
      expect(await ids({ templateId: 'flyer', limit: 10 })).toEqual([second.id, first.id]);
      expect(await ids({ repId: 'dana', limit: 10 })).toEqual([third.id, first.id]);
      expect(await ids({ templateId: 'flyer', repId: 'dana', limit: 10 })).toEqual([first.id]);
    });

    it('count per version of a template', async () => {
      await store.renders.add(render('flyer', 1, 'dana'));
      await store.renders.add(render('flyer', 1, 'zoe'));
      await store.renders.add(render('flyer', 2, 'dana'));
      await store.renders.add(render('postcard', 1, 'dana'));
      expect(await store.renders.usage('flyer')).toEqual(
        new Map([
          [1, 2],
          [2, 1],
        ]),
      );
      expect(await store.renders.usage('nothing')).toEqual(new Map());
    });
  });

  describe('uploads', () => {
    it("are their owner's alone, until they expire; a new upload renews one", async () => {
      const image = hash('image');
      expect(await store.uploads.owns(image, 'rep:dana')).toBe(false);
      await store.uploads.add(image, 'rep:dana', Date.now() + 60_000);
      expect(await store.uploads.owns(image, 'rep:dana')).toBe(true);
      expect(await store.uploads.owns(image, 'rep:zoe')).toBe(false);
      later(30_000);
      await store.uploads.add(image, 'rep:dana', Date.now() + 60_000);
      later(45_000);
      expect(await store.uploads.owns(image, 'rep:dana')).toBe(true);
      later(30_000);
      expect(await store.uploads.owns(image, 'rep:dana')).toBe(false);
    });
  });

  describe('jobs', () => {
    it('are stored queued under the id given, once', async () => {
      const stored = await store.jobs.create(job('j1', 'dana'));
      expect(stored).toMatchObject({
        ...job('j1', 'dana'),
        state: 'queued',
        done: 0,
        rendered: 0,
        rejected: 0,
        heldOut: 0,
        error: null,
        startedAt: null,
        finishedAt: null,
      });
      expect(await store.jobs.get('j1')).toEqual(stored);
      expect(await store.jobs.get('nothing')).toBeNull();
      await expect(store.jobs.create(job('j1'))).rejects.toThrow();
    });

    it('are listed newest first, by rep; unfinished ones oldest first', async () => {
      await store.jobs.create(job('a', 'dana'));
      later();
      await store.jobs.create(job('b', 'zoe'));
      later();
      await store.jobs.create(job('c', 'dana'));
      const ids = async (filter: { repId?: string; limit: number }) =>
        (await store.jobs.list(filter)).map((j) => j.id);
      expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
      expect(await ids({ repId: 'dana', limit: 10 })).toEqual(['c', 'a']);
      expect(await ids({ limit: 1 })).toEqual(['c']);
      await store.jobs.finish('b', 'done');
      expect((await store.jobs.unfinished()).map((j) => j.id)).toEqual(['a', 'c']);
    });

    it('keep their first start, their progress, and end once', async () => {
      await store.jobs.create(job('j'));
      await store.jobs.started('j');
      const { startedAt } = (await store.jobs.get('j'))!;
      later();
      await store.jobs.started('j');
      await store.jobs.progress('j', { done: 5, rendered: 3, rejected: 1, heldOut: 1 });
      expect(await store.jobs.get('j')).toMatchObject({
        state: 'running',
        startedAt,
        done: 5,
        rendered: 3,
        rejected: 1,
        heldOut: 1,
      });
      expect(await store.jobs.finish('j', 'cancelled')).toBe(true);
      expect(await store.jobs.finish('j', 'done')).toBe(false);
      expect(await store.jobs.finish('j', 'failed', 'boom')).toBe(false);
      expect(await store.jobs.get('j')).toMatchObject({ state: 'cancelled', error: null });
      await store.jobs.create(job('k'));
      expect(await store.jobs.finish('k', 'failed', 'the list is gone')).toBe(true);
      expect((await store.jobs.get('k'))!.finishedAt).not.toBeNull();
      expect(await store.jobs.get('k')).toMatchObject({ state: 'failed', error: 'the list is gone' });
    });

    it('keep checkpoints by index, the last saved winning, until dropped', async () => {
      await store.jobs.create(job('j'));
      await store.jobs.create(job('ended'));
      await store.jobs.saveChunk('j', 0, { index: 0, part: 'first' });
      await store.jobs.saveChunk('j', 1, { index: 1, part: null });
      await store.jobs.saveChunk('j', 0, { index: 0, part: 'again' });
      await store.jobs.saveChunk('ended', 0, { index: 0 });
      expect(await store.jobs.chunks('j')).toEqual(
        new Map<number, unknown>([
          [0, { index: 0, part: 'again' }],
          [1, { index: 1, part: null }],
        ]),
      );
      await store.jobs.finish('ended', 'done');
      await store.jobs.dropEndedChunks();
      expect((await store.jobs.chunks('ended')).size).toBe(0);
      expect((await store.jobs.chunks('j')).size).toBe(2);
      await store.jobs.dropChunks('j');
      expect((await store.jobs.chunks('j')).size).toBe(0);
    });
  });

  describe('blobs', () => {
    it('are named by the SHA-256 of their bytes, stored once however often put', async () => {
      const bytes = Buffer.from('a piece of a PDF');
      const id = await store.blobs.put(bytes);
      expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await store.blobs.put(new Uint8Array(bytes))).toBe(id);
      expect(await store.blobs.get(id)).toEqual(bytes);
      expect(await store.blobs.exists(id)).toBe(true);
      expect(await text((await store.blobs.stream(id))!)).toBe('a piece of a PDF');
    });

    it('answer null, false or nothing for what is not there', async () => {
      const missing = hash('nothing');
      expect(await store.blobs.get(missing)).toBeNull();
      expect(await store.blobs.stream(missing)).toBeNull();
      expect(await store.blobs.exists(missing)).toBe(false);
      await store.blobs.delete(missing);
    });

    it('are deleted', async () => {
      const id = await store.blobs.put(Buffer.from('gone'));
      await store.blobs.delete(id);
      expect(await store.blobs.exists(id)).toBe(false);
      expect(await store.blobs.get(id)).toBeNull();
      expect(await store.blobs.put(Buffer.from('gone'))).toBe(id);
      expect(await store.blobs.get(id)).toEqual(Buffer.from('gone'));
    });

    it('refuse an id that is not a SHA-256', async () => {
      for (const id of ['../platen.db', 'ABC', hash('x').toUpperCase(), `${hash('x')}0`]) {
        await expect(store.blobs.get(id)).rejects.toThrow();
        await expect(store.blobs.exists(id)).rejects.toThrow();
        await expect(store.blobs.delete(id)).rejects.toThrow();
      }
    });
  });
});
