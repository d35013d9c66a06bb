/**
 * The store contract: what every adapter behind src/store/store.ts must do, run against each of
 * them. A new adapter (PostgreSQL, S3) adds its factory to ADAPTERS and passes this file unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { ObjectBlobStore } from '../../src/store/object-blobs.js';
import { PostgresStore } from '../../src/store/postgres/store.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { type JobSpec, type NewPiece, type Store, SWEEP_AFTER_MS } from '../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type S3Server, startS3 } from '../support/s3.js';

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

const sqlite = (dir: string) =>
  new SqliteStore(dir, new LocalBlobStore(path.join(dir, 'blobs')), new LocalObjectStore(dir));
/** This file's database, made on first use and emptied for each test. */
let database: TestDatabase | undefined;
const postgres = async (dir: string) => {
  database ??= await createTestDatabase();
  return PostgresStore.open(
    database.url,
    new LocalBlobStore(path.join(dir, 'blobs')),
    new LocalObjectStore(dir),
  );
};
/** Leaves a package folder with no row, as both adapters keep packages in local files: under `<dataDir>/packages`. */
const halfStoredPackage = async (dir: string, templateId: string, version: number) => {
  const folder = path.join(dir, 'packages', templateId, String(version));
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'template.json'), '{}');
  return `packages/${templateId}/${version}/`;
};
/** SQLite rows, blobs and packages in S3: each test's under a prefix of its own (its folder's name). */
let s3: S3Server;
const sqliteS3 = (dir: string) => {
  const objects = s3.objects(`${path.basename(dir)}/`, path.join(dir, 'cache'));
  return new SqliteStore(dir, new ObjectBlobStore(objects), objects);
};

const ADAPTERS: Adapter[] = [
  {
    name: 'SQLite and local files',
    open: async (dir) => ({ store: sqlite(dir), staging: path.join(dir, 'staging') }),
    reopen: async (dir) => sqlite(dir),
    halfStoredPackage,
  },
  {
    name: 'SQLite and S3 (s3rver)',
    open: async (dir) => ({ store: sqliteS3(dir), staging: path.join(dir, 'staging') }),
    reopen: async (dir) => sqliteS3(dir),
    halfStoredPackage: async (dir, templateId, version) => {
      const prefix = `packages/${templateId}/${version}/`;
      await s3
        .objects(`${path.basename(dir)}/`, path.join(dir, 'cache'))
        .write(`${prefix}template.json`, async (out) => {
          out.end('{}');
        });
      return prefix;
    },
  },
  {
    name: 'PostgreSQL and local files',
    open: async (dir) => {
      await database?.reset();
      return { store: await postgres(dir), staging: path.join(dir, 'staging') };
    },
    reopen: postgres,
    halfStoredPackage,
  },
];

beforeAll(async () => {
  s3 = await startS3();
});

const dirs: string[] = [];
afterAll(async () => {
  await s3.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await database?.drop();
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
      await store.sessions.start(hash('s1'), { keyId: key.id }, Date.now() + 60_000);
      await store.sessions.start(hash('s2'), { keyId: other.id }, Date.now() + 60_000);
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

    it('record when a key was last used, which lookups and lists then carry', async () => {
      const key = await store.keys.create({ role: 'marketing', name: 'M', repId: null }, hash('m'));
      expect(key.lastUsedAt).toBeNull();
      const at = new Date().toISOString();
      await store.keys.used(key.id, at);
      expect((await store.keys.findLive(hash('m')))?.lastUsedAt).toBe(at);
      expect((await store.keys.list())[0]?.lastUsedAt).toBe(at);
    });
  });

  describe('settings', () => {
    it('keep what was set, by name, each value as given; others stay as they were', async () => {
      expect(await store.settings.all()).toEqual({});
      await store.settings.set({ requireApproval: true, retentionDays: 365 }, 'Ada');
      await store.settings.set({ retentionDays: 90 }, 'Ada');
      expect(await store.settings.all()).toEqual({ requireApproval: true, retentionDays: 90 });
    });
  });

  describe('sessions', () => {
    it('are found while they last and their key is live', async () => {
      await store.reps.ensure('dana');
      const key = await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k'));
      const expires = Date.now() + 60_000;
      await store.sessions.start(hash('token'), { keyId: key.id }, expires);
      expect(await store.sessions.find(hash('token'))).toEqual({ expires, key, person: null });
      expect(await store.sessions.find(hash('other'))).toBeNull();
      later(60_000);
      expect(await store.sessions.find(hash('token'))).toBeNull();
    });

    it('end when ended, and expired ones are deleted as a new one starts', async () => {
      await store.reps.ensure('dana');
      const key = await store.keys.create({ role: 'rep', name: 'Dana', repId: 'dana' }, hash('k'));
      await store.sessions.start(hash('one'), { keyId: key.id }, Date.now() + 60_000);
      await store.sessions.start(hash('two'), { keyId: key.id }, Date.now() + 60_000);
      await store.sessions.end(hash('one'));
      expect(await store.sessions.find(hash('one'))).toBeNull();
      const start = clock;
      later(120_000);
      await store.sessions.start(hash('three'), { keyId: key.id }, Date.now() + 60_000);
      // Back before `two` expired: had it only been hidden, not deleted, it would be found again.
      vi.setSystemTime(start);
      expect(await store.sessions.find(hash('two'))).toBeNull();
      expect(await store.sessions.find(hash('three'))).not.toBeNull();
    });
  });

  describe('people', () => {
    const identity = { issuer: 'https://id.example', subject: 'u1', name: 'Ana', email: 'ana@example.com' };

    it('are made without a role on first sign-in, keep what an admin gives them, and take the provider’s claims', async () => {
      const first = await store.people.signIn(identity);
      expect(first).toMatchObject({ name: 'Ana', role: null, repId: null, disabledAt: null });
      expect(first.lastSignInAt).not.toBeNull();
      expect(await store.people.assign(first.id, 'rep', 'ana')).toMatchObject({ role: 'rep', repId: 'ana' });
      expect(await store.reps.get('ana')).not.toBeNull();
      // Signing in again without claims keeps the role; with claims, the provider's word wins.
      expect(await store.people.signIn({ ...identity, name: 'Ana B' })).toMatchObject({
        id: first.id,
        name: 'Ana B',
        role: 'rep',
        repId: 'ana',
      });
      expect(await store.people.signIn({ ...identity, role: 'marketing' })).toMatchObject({
        role: 'marketing',
        repId: null,
      });
      // Another issuer's subject of the same name is another person.
      const other = await store.people.signIn({
        ...identity,
        issuer: 'https://other.example',
        role: 'admin',
      });
      expect(other.id).not.toBe(first.id);
      expect(await store.people.assign('no-such-person', 'rep', 'x')).toBeNull();
    });

    it('list those waiting for a role first', async () => {
      const named = await store.people.signIn({ ...identity, subject: 'a', name: 'Aaron', role: 'admin' });
      const waiting = await store.people.signIn({ ...identity, subject: 'z', name: 'Zoe' });
      expect((await store.people.list()).map((p) => p.id)).toEqual([waiting.id, named.id]);
    });

    it('have sessions, which disabling them ends at once, and cannot sign in once disabled', async () => {
      const person = await store.people.signIn({ ...identity, role: 'marketing' });
      await store.sessions.start(hash('p1'), { personId: person.id }, Date.now() + 60_000);
      expect(await store.sessions.find(hash('p1'))).toMatchObject({ key: null, person: { id: person.id } });
      expect(await store.people.disable(person.id)).toBe(true);
      expect(await store.people.disable(person.id)).toBe(false);
      expect(await store.sessions.find(hash('p1'))).toBeNull();
      expect((await store.people.signIn({ ...identity, role: 'admin' })).disabledAt).not.toBeNull();
      expect((await store.people.get(person.id))!.role).toBe('marketing');
    });
  });

  describe('people with a password', () => {
    const chloe = { name: 'Chloé', email: 'Chloe@Harbor.example', role: 'rep' as const, repId: 'chloe' };

    it('are made once per email, whatever its case, and set their password once per link', async () => {
      const person = (await store.people.create(chloe))!;
      expect(person).toMatchObject({ issuer: null, hasPassword: false, role: 'rep', repId: 'chloe' });
      expect(await store.people.create({ ...chloe, email: 'chloe@harbor.EXAMPLE' })).toBeNull();
      expect(await store.people.findPassword('chloe@harbor.example')).toBeNull();

      expect(await store.people.setPasswordLink(person.id, hash('link'), Date.now() + 60_000)).toBe(true);
      expect(await store.people.setPasswordLink('no-such-person', hash('other'), Date.now() + 60_000)).toBe(
        false,
      );
      expect((await store.people.findByPasswordLink(hash('link')))!.id).toBe(person.id);
      await store.sessions.start(hash('before'), { personId: person.id }, Date.now() + 60_000);
      expect(await store.people.setPassword(hash('link'), '$argon2id$hash')).toMatchObject({
        hasPassword: true,
      });
      // The link is spent, and sessions from before the new password are over.
      expect(await store.people.setPassword(hash('link'), '$argon2id$again')).toBeNull();
      expect(await store.people.findByPasswordLink(hash('link'))).toBeNull();
      expect(await store.sessions.find(hash('before'))).toBeNull();
      expect(await store.people.findPassword('CHLOE@harbor.example')).toMatchObject({
        person: { id: person.id },
        passwordHash: '$argon2id$hash',
      });
      await store.people.disable(person.id);
      expect(await store.people.findPassword('chloe@harbor.example')).toBeNull();
    });

    it('have links that expire, and only the latest one works', async () => {
      const person = (await store.people.create(chloe))!;
      await store.people.setPasswordLink(person.id, hash('first'), Date.now() + 60_000);
      await store.people.setPasswordLink(person.id, hash('second'), Date.now() + 60_000);
      expect(await store.people.findByPasswordLink(hash('first'))).toBeNull();
      later(60_000);
      expect(await store.people.setPassword(hash('second'), '$argon2id$hash')).toBeNull();
    });

    it('are not the people an identity provider signs in, who have no password link', async () => {
      const viaProvider = await store.people.signIn({
        issuer: 'https://id.example',
        subject: 'c',
        name: 'Chloé',
        email: chloe.email,
      });
      expect(await store.people.create(chloe)).not.toBeNull();
      expect(await store.people.setPasswordLink(viaProvider.id, hash('l'), Date.now() + 60_000)).toBe(false);
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
    it('number versions added at the same time one after the other, each with its own package', async () => {
      const names = ['a', 'b', 'c'];
      const dirs = await Promise.all(names.map((n) => staged(`flyer-${n}`)));
      const added = await Promise.all(
        dirs.map((stagedDir) =>
          store.templates.addVersion({
            templateId: 'flyer',
            name: 'Flyer',
            stagedDir,
            manifest: {},
            report: [],
            createdBy: 'marketing key',
            state: 'draft',
          }),
        ),
      );
      expect(added.map((v) => v.version).sort()).toEqual([1, 2, 3]);
      for (const [i, { version }] of added.entries()) {
        const folder = await store.templates.packageDir('flyer', version);
        expect(await readFile(path.join(folder, 'template.json'), 'utf8')).toBe(
          `{"name":"flyer-${names[i]}"}`,
        );
      }
    });

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

    it('record one approval of a draft, by whom and when', async () => {
      const draft = await addVersion('flyer');
      expect(draft).toMatchObject({ approvedBy: null, approvedAt: null });
      const both = await Promise.all([
        store.templates.approve('flyer', 1, 'second'),
        store.templates.approve('flyer', 1, 'third'),
      ]);
      const approved = both.filter((v) => v !== null);
      expect(approved).toHaveLength(1);
      expect(approved[0]!.approvedBy).toMatch(/^(second|third)$/);
      expect(approved[0]!.approvedAt).toEqual(expect.any(String));
      expect(await store.templates.get('flyer', 1)).toMatchObject({ approvedBy: approved[0]!.approvedBy });
      await addVersion('flyer', 'published');
      expect(await store.templates.approve('flyer', 2, 'second')).toBeNull();
      expect(await store.templates.approve('nothing', 1, 'second')).toBeNull();
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

    it('sweep away packages that have no version stored, once they are older than another node’s storing takes', async () => {
      await addVersion('flyer');
      const orphan = await adapter.halfStoredPackage(dir, 'flyer', 2);
      // The files' times are the real clock's (this suite fakes Date alone).
      const now = performance.timeOrigin + performance.now();
      // Written within the sweep's wait, it may be another node's package whose row is a moment away.
      expect(await store.sweep(now - SWEEP_AFTER_MS)).toEqual([]);
      expect(await store.sweep(now + 1000)).toEqual([orphan]);
      expect(await store.sweep(now + 1000)).toEqual([]);
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

    it('are found by the pieces they made', async () => {
      const made = await store.renders.add({ ...render('flyer', 1, 'dana'), pieceCode: 'A1' });
      await store.renders.add({ ...render('flyer', 1, 'dana'), pieceCode: 'A2' });
      expect(await store.renders.ofPieces(['A1', 'ZZ'])).toEqual([made]);
      expect(await store.renders.ofPieces([])).toEqual([]);
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

  describe('pieces', () => {
    const piece = (number: number, over: Partial<NewPiece> = {}): NewPiece => ({
      number,
      code: `CODE${number}`,
      templateId: 'flyer',
      version: 1,
      repId: 'dana',
      keyId: 'key-1',
      channel: 'api',
      jobId: null,
      row: null,
      recipientRef: `P-${number}`,
      landingUrl: `https://example.com/offer/P-${number}?x=1`,
      choices: { 'fields.headline': 'A' },
      variant: null,
      holdout: false,
      edited: ['message'],
      entered: {
        prospectName: `Pat Lee ${number}`,
        prospect: { id: `P-${number}`, firstName: 'Pat', lastName: `Lee ${number}` },
        fields: { message: 'Hello', signed: true },
      },
      ...over,
    });
    const numbers = async (filter: Parameters<Store['pieces']['list']>[0]) =>
      (await store.pieces.list(filter)).map((p) => p.number);

    it('are numbered from 1 in ranges never handed out twice, also after a restart', async () => {
      expect(await store.pieces.reserve(1)).toBe(1);
      expect(await store.pieces.reserve(500)).toBe(2);
      expect(await store.pieces.reserve(1)).toBe(502);
      await store.close();
      store = await adapter.reopen(dir);
      expect(await store.pieces.reserve(1)).toBe(503);
    });

    it('have one secret code key, made once and kept', async () => {
      const key = await store.pieces.codeKey();
      expect(key).toHaveLength(32);
      expect(await store.pieces.codeKey()).toEqual(key);
      await store.close();
      store = await adapter.reopen(dir);
      expect(await store.pieces.codeKey()).toEqual(key);
    });

    it('come back as they went in, newest first, filtered by rep, template and job', async () => {
      await store.pieces.add([piece(1)]);
      later();
      await store.pieces.add([
        piece(2, { repId: 'zoe', templateId: 'card', channel: 'batch', jobId: 'job-1', row: 1 }),
        piece(3, {
          repId: 'zoe',
          templateId: 'card',
          channel: 'batch',
          jobId: 'job-1',
          row: 2,
          holdout: true,
        }),
      ]);
      expect(await store.pieces.get(1)).toEqual({
        ...piece(1),
        createdAt: new Date(clock - 1000).toISOString(),
        responses: 0,
        firstResponseAt: null,
        outcome: null,
        outcomeNote: null,
        outcomeAt: null,
      });
      expect((await store.pieces.get(3))?.holdout).toBe(true);
      expect(await store.pieces.get(99)).toBeNull();
      expect(await numbers({ limit: 10 })).toEqual([3, 2, 1]);
      expect(await numbers({ limit: 1 })).toEqual([3]);
      expect(await numbers({ repId: 'dana', limit: 10 })).toEqual([1]);
      expect(await numbers({ templateId: 'card', limit: 10 })).toEqual([3, 2]);
      expect(await numbers({ jobId: 'job-1', limit: 10 })).toEqual([3, 2]);
    });

    it("are found by their prospect's name or code in any case, by template, or by number", async () => {
      await store.pieces.add([
        piece(1, {
          entered: { prospectName: 'Winifred Quayle', prospect: { firstName: 'Winifred' }, fields: {} },
        }),
        piece(2, { templateId: 'card', entered: null }),
        piece(3, { entered: { prospectName: '100%_Ltd', prospect: { company: '100%_Ltd' }, fields: {} } }),
      ]);
      const match = (text: string, templateIds: string[] = [], number: number | null = null) =>
        numbers({ match: { text, templateIds, number }, limit: 10 });
      expect(await match('quay')).toEqual([1]);
      expect(await match('WINIFRED QUAYLE')).toEqual([1]);
      expect(await match('code2')).toEqual([2]);
      expect(await match('nobody', ['card'])).toEqual([2]);
      expect(await match('nobody', [], 3)).toEqual([3]);
      // What people type is matched as itself, never as a pattern.
      expect(await match('%')).toEqual([3]);
      expect(await match('%_L')).toEqual([3]);
      expect(await match('0_L')).toEqual([]);
      expect(await match('nobody')).toEqual([]);
      expect(
        await numbers({ repId: 'zoe', match: { text: 'quay', templateIds: [], number: null }, limit: 10 }),
      ).toEqual([]);
    });

    it('are stored once: a number stored again is left as it was', async () => {
      await store.pieces.add([piece(1)]);
      await store.pieces.add([piece(1, { repId: 'zoe' }), piece(2)]);
      expect((await store.pieces.get(1))?.repId).toBe('dana');
      expect(await numbers({ limit: 10 })).toEqual([2, 1]);
    });

    it('count responses, keep the first, and list them; an unknown piece records nothing', async () => {
      await store.pieces.add([piece(1)]);
      const first = '2026-01-02T10:00:00.000Z';
      const second = '2026-01-03T11:30:00.000Z';
      expect(await store.pieces.respond(99, { at: first, kind: 'visit', device: 'phone' })).toBeNull();
      const once = await store.pieces.respond(1, { at: first, kind: 'scan', device: 'phone' });
      expect(once).toMatchObject({ responses: 1, firstResponseAt: first });
      const twice = await store.pieces.respond(1, { at: second, kind: 'visit', device: 'desktop' });
      expect(twice).toMatchObject({ responses: 2, firstResponseAt: first });
      expect(await store.pieces.responsesOf(1)).toEqual([
        { at: first, kind: 'scan', device: 'phone' },
        { at: second, kind: 'visit', device: 'desktop' },
      ]);
      expect(await store.pieces.responsesOf(99)).toEqual([]);
    });

    it('take an outcome, replacing the one before', async () => {
      await store.pieces.add([piece(1)]);
      const at = new Date().toISOString();
      await store.pieces.setOutcome(1, { outcome: 'contacted', note: 'left a message', at });
      const won = await store.pieces.setOutcome(1, { outcome: 'won', note: null, at });
      expect(won).toMatchObject({ outcome: 'won', outcomeNote: null, outcomeAt: at });
      expect(await store.pieces.setOutcome(99, { outcome: 'won', note: null, at })).toBeNull();
    });

    it("are read for a template's results within dates, oldest first", async () => {
      await store.pieces.add([piece(1)]);
      later();
      const from = new Date().toISOString();
      await store.pieces.add([piece(2), piece(3, { templateId: 'card' })]);
      later();
      const to = new Date().toISOString();
      await store.pieces.add([piece(4)]);
      const made = async (filter: { templateId?: string; from?: string; to?: string }) => {
        const found: number[] = [];
        for await (const p of store.pieces.made(filter)) found.push(p.number);
        return found;
      };
      expect(await made({ templateId: 'flyer' })).toEqual([1, 2, 4]);
      expect(await made({ templateId: 'flyer', from, to })).toEqual([2]);
      expect(await made({ from })).toEqual([2, 3, 4]);
    });

    it('are cut from their recipients after retention, keeping the counts', async () => {
      await store.pieces.add([piece(1)]);
      await store.pieces.respond(1, { at: new Date().toISOString(), kind: 'visit', device: 'phone' });
      await store.pieces.setOutcome(1, { outcome: 'won', note: 'signed Pat', at: new Date().toISOString() });
      later();
      const cutoff = new Date().toISOString();
      later();
      await store.pieces.add([piece(2)]);
      expect(await store.pieces.cutRecipients(cutoff)).toEqual(['CODE1']);
      expect(await store.pieces.get(1)).toMatchObject({
        recipientRef: null,
        entered: null,
        outcomeNote: null,
        landingUrl: 'https://example.com/',
        responses: 1,
        outcome: 'won',
        choices: { 'fields.headline': 'A' },
      });
      expect((await store.pieces.get(2))?.recipientRef).toBe('P-2');
      expect((await store.pieces.get(2))?.entered).toEqual(piece(2).entered);
      expect(await store.pieces.cutRecipients(cutoff)).toEqual([]);
      // A piece whose only personal detail is what was entered is cut too.
      await store.pieces.add([piece(3, { recipientRef: null, landingUrl: null })]);
      later();
      expect(await store.pieces.cutRecipients(new Date().toISOString())).toEqual(['CODE2', 'CODE3']);
      expect((await store.pieces.get(3))?.entered).toBeNull();
    });

    it("are erased with their responses at a recipient's request", async () => {
      await store.pieces.add([
        piece(1, { recipientRef: 'P-9' }),
        piece(2, { recipientRef: 'P-9' }),
        piece(3),
      ]);
      await store.pieces.respond(1, { at: new Date().toISOString(), kind: 'visit', device: 'phone' });
      expect((await store.pieces.eraseRecipient('P-9')).sort()).toEqual(['CODE1', 'CODE2']);
      expect(await store.pieces.get(1)).toBeNull();
      expect(await store.pieces.responsesOf(1)).toEqual([]);
      expect(await numbers({ limit: 10 })).toEqual([3]);
      expect(await store.pieces.eraseRecipient('P-9')).toEqual([]);
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

    it('keep the columns each owner last mapped to a template, apart from others’', async () => {
      expect(await store.jobs.mapping('mailer', 'rep:dana')).toBeNull();
      await store.jobs.saveMapping('mailer', 'rep:dana', { firstName: 'Given Name', zip: 'Postcode' });
      await store.jobs.saveMapping('mailer', 'rep:zoe', { firstName: 'First' });
      await store.jobs.saveMapping('mailer', 'rep:dana', { firstName: 'Forename' });
      expect(await store.jobs.mapping('mailer', 'rep:dana')).toEqual({ firstName: 'Forename' });
      expect(await store.jobs.mapping('mailer', 'rep:zoe')).toEqual({ firstName: 'First' });
      expect(await store.jobs.mapping('other', 'rep:dana')).toBeNull();
    });

    it('are listed newest first, by rep; unfinished ones oldest first', async () => {
      await store.jobs.create(job('a', 'dana'));
      later();
      await store.jobs.create(job('b', 'zoe'));
      later();
      await store.jobs.create(job('c', 'dana'));
      const ids = async (filter: { repId?: string; withoutChecks?: boolean; limit: number }) =>
        (await store.jobs.list(filter)).map((j) => j.id);
      expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
      expect(await ids({ repId: 'dana', limit: 10 })).toEqual(['c', 'a']);
      expect(await ids({ limit: 1 })).toEqual(['c']);
      await store.jobs.finish('b', 'done');
      expect((await store.jobs.unfinished()).map((j) => j.id)).toEqual(['a', 'c']);
      // Preflight checks are left out when asked.
      later();
      await store.jobs.create({ ...job('d', 'dana'), kind: 'check' });
      expect(await ids({ limit: 10 })).toEqual(['d', 'c', 'b', 'a']);
      expect(await ids({ repId: 'dana', withoutChecks: true, limit: 10 })).toEqual(['c', 'a']);
      expect(await ids({ withoutChecks: true, limit: 1 })).toEqual(['c']);
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

  describe('nodes sharing the store', () => {
    /** A second process on the same store: another API node. */
    let other: Store;
    beforeEach(async () => {
      other = await adapter.reopen(dir);
    });
    afterEach(async () => {
      await other.close();
    });

    it('run each unfinished job on the one node holding its lease, until it lets go or its lease runs out', async () => {
      await store.jobs.create(job('j'));
      await store.jobs.create(job('ended'));
      await store.jobs.finish('ended', 'done');
      expect(await store.jobs.claim('ended', 'a', 10_000)).toBe(false);
      expect(await store.jobs.claim('j', 'a', 10_000)).toBe(true);
      expect((await other.jobs.get('j'))!.owner).toBe('a');
      expect(await other.jobs.claim('j', 'b', 10_000)).toBe(false);
      // Its own node may claim it again (a restart of the same node), and renews its lease.
      expect(await store.jobs.claim('j', 'a', 10_000)).toBe(true);
      later(9000);
      expect(await store.jobs.renew('a', 10_000)).toEqual(['j']);
      later(9000);
      expect(await other.jobs.claim('j', 'b', 10_000)).toBe(false);
      // Node a dies: its lease runs out, and b takes the job over; a finds it no longer holds it.
      later(2000);
      expect(await other.jobs.claim('j', 'b', 10_000)).toBe(true);
      expect(await store.jobs.renew('a', 10_000)).toEqual([]);
      expect(await other.jobs.renew('b', 10_000)).toEqual(['j']);
      // b stops and lets go: anyone may take it at once.
      await other.jobs.release('b');
      expect(await store.jobs.claim('j', 'a', 10_000)).toBe(true);
      // A node known to have died (its process gone) is taken from before its lease runs out.
      expect(await other.jobs.claim('j', 'b', 10_000, 'someone else')).toBe(false);
      expect(await other.jobs.claim('j', 'b', 10_000, 'a')).toBe(true);
      expect((await store.jobs.unfinished()).map((j) => j.owner)).toEqual(['b']);
      // An ended job is renewed no more.
      await store.jobs.finish('j', 'cancelled');
      expect(await other.jobs.renew('b', 10_000)).toEqual([]);
      expect(await store.jobs.renew('a', 10_000)).toEqual([]);
    });

    it('do what takes a lock one at a time, across nodes', async () => {
      const log: string[] = [];
      const work = (node: string) => async () => {
        log.push(`${node} in`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        log.push(`${node} out`);
        return node;
      };
      const results = await Promise.all([
        store.exclusively('first start', work('a')),
        other.exclusively('first start', work('b')),
        store.exclusively('first start', work('c')),
      ]);
      expect(results).toEqual(['a', 'b', 'c']);
      for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(log[i]!.replace('in', 'out'));
      // Work that fails lets the lock go all the same.
      await expect(other.exclusively('first start', () => Promise.reject(new Error('boom')))).rejects.toThrow(
        'boom',
      );
      expect(await store.exclusively('first start', async () => 'free')).toBe('free');
    });

    it('keep one secret per name for every node: of two first asking at once, one stores its own and both get it', async () => {
      const mine = Buffer.alloc(32, 1);
      const theirs = Buffer.alloc(32, 2);
      const [one, two] = await Promise.all([
        store.sessions.secret('pages', () => mine),
        other.sessions.secret('pages', () => theirs),
      ]);
      expect(one.equals(two)).toBe(true);
      expect([mine.toString('hex'), theirs.toString('hex')]).toContain(one.toString('hex'));
      // Later calls, on either node and after a restart, return it without making another.
      const make = vi.fn(() => Buffer.alloc(32, 3));
      expect((await other.sessions.secret('pages', make)).equals(one)).toBe(true);
      await store.close();
      store = await adapter.reopen(dir);
      expect((await store.sessions.secret('pages', make)).equals(one)).toBe(true);
      expect(make).not.toHaveBeenCalled();
      // Another name is another secret; the piece codes' key is not among them.
      expect((await store.sessions.secret('other', make)).equals(Buffer.alloc(32, 3))).toBe(true);
      expect((await store.pieces.codeKey()).equals(one)).toBe(false);
    });

    it('count a rate limit across nodes, per key, starting again with each window', async () => {
      vi.setSystemTime(Date.parse('2026-01-01T10:00:00Z'));
      expect(await store.rateLimits.hit('k1', 60_000)).toEqual({
        hits: 1,
        resetAt: Date.parse('2026-01-01T10:01:00Z'),
      });
      const hits = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).rateLimits.hit('k1', 60_000)),
      );
      expect(hits.map((h) => h.hits).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect((await other.rateLimits.hit('k2', 60_000)).hits).toBe(1);
      // A request taken back (it turned out not to count), never below none.
      expect((await store.rateLimits.hit('k2', 60_000, -1)).hits).toBe(0);
      expect((await other.rateLimits.hit('k2', 60_000, -1)).hits).toBe(0);
      expect((await store.rateLimits.hit('k2', 60_000)).hits).toBe(1);
      vi.setSystemTime(Date.parse('2026-01-01T10:01:00Z'));
      expect(await other.rateLimits.hit('k1', 60_000)).toEqual({
        hits: 1,
        resetAt: Date.parse('2026-01-01T10:02:00Z'),
      });
    });
  });

  describe('webhooks', () => {
    const hook = (url = 'https://crm.example/hooks/platen') =>
      store.webhooks.create({ url, events: ['piece.created', 'piece.outcome'], secret: 'whsec_1' });
    const event = (id: string) => ({ id, type: 'piece.created' as const, body: `{"id":"${id}"}` });
    const result = { at: '2026-01-01T00:00:00.000Z', status: 200, error: null, durationMs: 12 };

    it('are listed oldest first while live; a deleted one is kept, and delivered to no more', async () => {
      const a = await hook('https://a.example/');
      later();
      const b = await hook('https://b.example/');
      expect(a).toMatchObject({ url: 'https://a.example/', events: ['piece.created', 'piece.outcome'] });
      expect(a.deletedAt).toBeNull();
      expect((await store.webhooks.list()).map((w) => w.id)).toEqual([a.id, b.id]);
      expect(await store.webhooks.target(a.id)).toEqual({ url: 'https://a.example/', secret: 'whsec_1' });
      expect(await store.webhooks.delete(a.id)).toBe(true);
      expect(await store.webhooks.delete(a.id)).toBe(false);
      expect((await store.webhooks.list()).map((w) => w.id)).toEqual([b.id]);
      expect((await store.webhooks.get(a.id))!.deletedAt).not.toBeNull();
      expect(await store.webhooks.target(a.id)).toBeNull();
      expect(await store.webhooks.get('nothing')).toBeNull();
    });

    it('enqueue an event once per webhook, however often it is enqueued', async () => {
      const a = await hook();
      const b = await hook();
      await store.webhooks.enqueue([event('e1')], [a.id, b.id]);
      await store.webhooks.enqueue([event('e1')], [a.id]);
      const due = await store.webhooks.claimDue(Date.now(), 10, Date.now() + 60_000);
      expect(due.map((d) => [d.eventId, d.webhookId]).sort()).toEqual(
        [
          ['e1', a.id],
          ['e1', b.id],
        ].sort(),
      );
      expect(due[0]).toMatchObject({
        type: 'piece.created',
        body: '{"id":"e1"}',
        attempts: 0,
        state: 'pending',
      });
    });

    it('claim due deliveries oldest first, leased until they are due again', async () => {
      const a = await hook();
      await store.webhooks.enqueue([event('first')], [a.id]);
      later();
      await store.webhooks.enqueue([event('second')], [a.id]);
      later();
      await store.webhooks.enqueue([event('third')], [a.id]);
      const t = Date.now();
      expect(await store.webhooks.nextDue()).toBe(t - 2000);
      const claimed = await store.webhooks.claimDue(t, 2, t + 30_000);
      expect(claimed.map((d) => d.eventId)).toEqual(['first', 'second']);
      // Leased: not claimed again before the lease ends, whatever claims come meanwhile.
      expect((await store.webhooks.claimDue(t, 10, t + 30_000)).map((d) => d.eventId)).toEqual(['third']);
      expect(await store.webhooks.claimDue(t + 29_999, 10, t + 60_000)).toEqual([]);
      expect(await store.webhooks.nextDue()).toBe(t + 30_000);
      // A lease that ends unrecorded (the process died mid-attempt) makes the delivery due again.
      const again = await store.webhooks.claimDue(t + 30_000, 10, t + 90_000);
      expect(again.map((d) => d.eventId)).toEqual(['first', 'second', 'third']);
      expect(again.every((d) => d.attempts === 0)).toBe(true);
    });

    it('log every attempt, newest first, and leave the outbox when delivered or failed', async () => {
      const a = await hook();
      const b = await hook();
      await store.webhooks.enqueue([event('e1')], [a.id, b.id]);
      await store.webhooks.enqueue([event('e2')], [a.id]);
      const t = Date.now();
      const [e1a, e1b, e2a] = await store.webhooks.claimDue(t, 10, t + 30_000);
      await store.webhooks.attempted(e1a!, { ...result, status: 500 }, { state: 'pending', retryAt: t + 5 });
      await store.webhooks.attempted(
        e2a!,
        { ...result, status: null, error: 'timed out' },
        { state: 'failed' },
      );
      await store.webhooks.attempted(e1b!, result, { state: 'delivered' });
      // Pending again at its retry time, with its attempt counted; the others are done.
      const retry = await store.webhooks.claimDue(t + 5, 10, t + 30_000);
      expect(retry.map((d) => [d.eventId, d.webhookId, d.attempts])).toEqual([['e1', a.id, 1]]);
      await store.webhooks.attempted(retry[0]!, { ...result, durationMs: 7 }, { state: 'delivered' });
      expect(await store.webhooks.nextDue()).toBeNull();
      // Over, they are still enqueued only once.
      await store.webhooks.enqueue([event('e1')], [a.id, b.id]);
      await store.webhooks.enqueue([event('e2')], [a.id]);
      expect(await store.webhooks.nextDue()).toBeNull();
      expect(await store.webhooks.attempts(a.id, 10)).toEqual([
        { eventId: 'e1', type: 'piece.created', attempt: 2, ...result, durationMs: 7 },
        { eventId: 'e2', type: 'piece.created', attempt: 1, ...result, status: null, error: 'timed out' },
        { eventId: 'e1', type: 'piece.created', attempt: 1, ...result, status: 500 },
      ]);
      expect((await store.webhooks.attempts(a.id, 1)).map((x) => x.attempt)).toEqual([2]);
      expect(await store.webhooks.attempts(b.id, 10)).toEqual([
        { eventId: 'e1', type: 'piece.created', attempt: 1, ...result },
      ]);
    });

    it('drop a deleted webhook’s pending deliveries and keep its delivery log', async () => {
      const a = await hook();
      await store.webhooks.enqueue([event('e1')], [a.id]);
      const t = Date.now();
      const [claimed] = await store.webhooks.claimDue(t, 10, t + 30_000);
      await store.webhooks.enqueue([event('e2')], [a.id]);
      await store.webhooks.delete(a.id);
      // An attempt in flight when its webhook was deleted is still logged.
      await store.webhooks.attempted(claimed!, result, { state: 'delivered' });
      expect(await store.webhooks.nextDue()).toBeNull();
      expect(await store.webhooks.claimDue(t + 60_000, 10, t + 90_000)).toEqual([]);
      expect((await store.webhooks.attempts(a.id, 10)).map((x) => x.eventId)).toEqual(['e1']);
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
  describe('pieces, read while written', () => {
    const piece = (i: number, templateId = 'brochure') => ({
      number: i + 1,
      code: `C${String(i).padStart(12, '0')}`,
      templateId,
      version: 1,
      repId: 'dana',
      keyId: 'key',
      channel: 'batch' as const,
      jobId: 'job',
      row: i,
      recipientRef: `R-${i}`,
      landingUrl: null,
      choices: {},
      variant: null,
      holdout: false,
      edited: [],
    });

    it('are made in order, each once, across however many a reader takes at a time, and written to while read', async () => {
      // More than a page of pieces at one time (a batch stores a chunk at once), then one later.
      await store.pieces.add(Array.from({ length: 1203 }, (_, i) => piece(i)));
      await store.pieces.add([piece(5000, 'other')]);
      later();
      await store.pieces.add([piece(9000)]);
      const codes: string[] = [];
      for await (const p of store.pieces.made({ templateId: 'brochure' })) {
        codes.push(p.code);
        // A response recorded while a reader is part way through.
        if (codes.length === 700)
          expect(
            await store.pieces.respond(p.number, { at: p.createdAt, kind: 'scan', device: 'phone' }),
          ).not.toBeNull();
      }
      expect(codes).toEqual([...Array.from({ length: 1203 }, (_, i) => piece(i).code), piece(9000).code]);
      const before = (await store.pieces.get(piece(9000).number))!.createdAt;
      const earlier: string[] = [];
      for await (const p of store.pieces.made({ templateId: 'brochure', to: before })) earlier.push(p.code);
      expect(earlier).toHaveLength(1203);
      const from: string[] = [];
      for await (const p of store.pieces.made({ from: before })) from.push(p.code);
      expect(from).toEqual([piece(9000).code]);
    });
  });
});
