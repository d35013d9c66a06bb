/**
 * Session cookies and CSRF tokens: stored sessions that expire, tokens bound to their session, and
 * the secret that signs them kept in the store, so every node on one store accepts what another signed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response } from 'express';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SessionService } from '../../src/service/sessions.js';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { Sessions } from '../../src/web/session.js';
import { cleanup, tempDir } from '../support/files.js';

/** Just enough of express's request and response for cookies. */
function exchange(cookie = '') {
  const set: Record<string, string> = {};
  const req = { headers: { cookie }, secure: false } as unknown as Request;
  const res = {
    cookie: (name: string, value: string) => (set[name] = value),
    clearCookie: (name: string) => (set[name] = ''),
  } as unknown as Response;
  return { req, res, set };
}

const stores: SqliteStore[] = [];
/** A store over `storeDir`: a process of its own on it when another is open there already (another node). */
function sqliteAt(storeDir: string): SqliteStore {
  const sqlite = new SqliteStore(
    storeDir,
    new LocalBlobStore(path.join(storeDir, 'blobs')),
    new LocalObjectStore(storeDir),
  );
  stores.push(sqlite);
  return sqlite;
}
async function open(): Promise<{ dir: string; store: { sessions: SessionService }; keyId: string }> {
  const dir = await tempDir();
  const sqlite = sqliteAt(dir);
  const key = await sqlite.keys.create({ role: 'marketing', name: 'M', repId: null }, 'a'.repeat(64));
  return { dir, store: { sessions: new SessionService(sqlite) }, keyId: key.id };
}
/** Another node on the store in `storeDir`, with a data directory of its own. */
async function node(storeDir: string): Promise<Sessions> {
  return Sessions.open(await tempDir(), new SessionService(sqliteAt(storeDir)));
}

afterEach(() => vi.useRealTimers());
afterAll(async () => {
  for (const store of stores) await store.close();
  await cleanup();
});

describe('sessions', () => {
  it('are known to the store that started them, until they expire', async () => {
    const { dir, store, keyId } = await open();
    const sessions = await Sessions.open(dir, store.sessions);
    const start = exchange();
    await sessions.start(start.req, start.res, { keyId });
    const cookie = `platen_session=${start.set.platen_session}`;

    const session = await sessions.read(exchange(cookie).req);
    expect(session).toMatchObject({ caller: { id: keyId, role: 'marketing' }, person: null });
    // The same store after a restart; another data directory's store does not know it.
    expect(await (await Sessions.open(dir, store.sessions)).read(exchange(cookie).req)).toEqual(session);
    const other = await open();
    expect(
      await (await Sessions.open(other.dir, other.store.sessions)).read(exchange(cookie).req),
    ).toBeNull();
    // A changed id is no session.
    expect(
      await sessions.read(exchange(cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).req),
    ).toBeNull();

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(session!.expires + 1);
    expect(await sessions.read(exchange(cookie).req)).toBeNull();
  });

  it('derives a CSRF token per session, and per visitor before sign-in', async () => {
    const { dir, store, keyId } = await open();
    const sessions = await Sessions.open(dir, store.sessions);
    const started = [exchange(), exchange()];
    for (const { req, res } of started) await sessions.start(req, res, { keyId });
    const [one, two] = await Promise.all(
      started.map(
        async (s) => (await sessions.read(exchange(`platen_session=${s.set.platen_session}`).req))!,
      ),
    );
    const a = exchange();
    const token = sessions.csrfToken(a.req, a.res, one!);
    expect(sessions.checkCsrf(a.req, one!, token)).toBe(true);
    expect(sessions.checkCsrf(a.req, two!, token)).toBe(false);
    expect(sessions.checkCsrf(a.req, one!, '')).toBe(false);
    expect(sessions.checkCsrf(a.req, one!, undefined)).toBe(false);

    const visitor = exchange();
    const visitorToken = sessions.csrfToken(visitor.req, visitor.res, null);
    const back = exchange(`platen_visitor=${visitor.set.platen_visitor}`);
    expect(sessions.checkCsrf(back.req, null, visitorToken)).toBe(true);
    expect(sessions.checkCsrf(exchange().req, null, visitorToken)).toBe(false);
  });

  it('carries a toast to the next page: signed, read once, gone after a minute', async () => {
    const { dir, store } = await open();
    const sessions = await Sessions.open(dir, store.sessions);
    const left = exchange();
    sessions.flash(left.req, left.res, 'Version 2 is published.');
    const cookie = `platen_flash=${left.set.platen_flash}`;
    const shown = exchange(cookie);
    expect(sessions.takeFlash(shown.req, shown.res)).toBe('Version 2 is published.');
    // Shown once: the page that shows it clears it.
    expect(shown.set.platen_flash).toBe('');
    // Another store's secret, or a changed message, shows nothing.
    const other = await open();
    expect(
      (await Sessions.open(other.dir, other.store.sessions)).takeFlash(exchange(cookie).req, exchange().res),
    ).toBeNull();
    const changed = cookie.replace(
      /\.([^.]+)\./,
      `.${Buffer.from('You won a prize').toString('base64url')}.`,
    );
    expect(sessions.takeFlash(exchange(changed).req, exchange().res)).toBeNull();

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect(sessions.takeFlash(exchange(cookie).req, exchange().res)).toBeNull();
  });
});

describe('the signing secret', () => {
  it('is the store’s: nodes on one store, each with its own data directory, accept each other’s tokens and cookies; another store’s refuse them', async () => {
    const { dir, store, keyId } = await open();
    const a = await Sessions.open(dir, store.sessions);
    const b = await node(dir);
    const elsewhere = await node((await open()).dir);
    // Signed in on A: B reads the session, and takes the CSRF token A's page carried.
    const signIn = exchange();
    await a.start(signIn.req, signIn.res, { keyId });
    const cookie = `platen_session=${signIn.set.platen_session}`;
    const onA = (await a.read(exchange(cookie).req))!;
    const onB = (await b.read(exchange(cookie).req))!;
    const token = a.csrfToken(exchange(cookie).req, exchange().res, onA);
    expect(b.checkCsrf(exchange(cookie).req, onB, token)).toBe(true);
    expect(elsewhere.checkCsrf(exchange(cookie).req, onB, token)).toBe(false);
    // The sign-in form served by A, posted to B.
    const form = exchange();
    const visitorToken = a.csrfToken(form.req, form.res, null);
    const visitor = `platen_visitor=${form.set.platen_visitor}`;
    expect(b.checkCsrf(exchange(visitor).req, null, visitorToken)).toBe(true);
    expect(elsewhere.checkCsrf(exchange(visitor).req, null, visitorToken)).toBe(false);
    // Sealed cookies: single sign-on's state set on A and its callback on B; a toast left by B shown on A.
    const begun = exchange();
    a.beginSignIn(begun.req, begun.res, { state: 's1', nonce: 'n1' });
    const flow = `platen_sign_in=${begun.set.platen_sign_in}`;
    expect(b.takeSignIn(exchange(flow).req, exchange().res)).toMatchObject({ state: 's1', nonce: 'n1' });
    expect(elsewhere.takeSignIn(exchange(flow).req, exchange().res)).toBeNull();
    const left = exchange();
    b.flash(left.req, left.res, 'Signed in on B.');
    const toast = `platen_flash=${left.set.platen_flash}`;
    expect(a.takeFlash(exchange(toast).req, exchange().res)).toBe('Signed in on B.');
    expect(elsewhere.takeFlash(exchange(toast).req, exchange().res)).toBeNull();
    // No node keeps it in its data directory.
    expect(existsSync(path.join(dir, 'session.key'))).toBe(false);
  });

  it('keeps the secret of an earlier Platen’s session.key through the upgrade, and reads that file no more', async () => {
    const { dir, store } = await open();
    const old = randomBytes(32);
    await writeFile(path.join(dir, 'session.key'), `${old.toString('hex')}\n`, { mode: 0o600 });
    // A sign-in form an earlier Platen served before the upgrade: its token, signed with the file's secret.
    const seed = randomBytes(16).toString('base64url');
    const before = createHmac('sha256', old).update(`csrf-visitor\0${seed}`).digest('base64url');
    const visitor = exchange(`platen_visitor=${seed}`).req;
    const upgraded = await Sessions.open(dir, store.sessions);
    expect(upgraded.checkCsrf(visitor, null, before)).toBe(true);
    // Another node, whose data directory has no such file, signs with it too.
    expect((await node(dir)).checkCsrf(visitor, null, before)).toBe(true);
    // Once stored, the file may change or go: the store's secret stays.
    await writeFile(path.join(dir, 'session.key'), `${randomBytes(32).toString('hex')}\n`);
    expect((await Sessions.open(dir, store.sessions)).checkCsrf(visitor, null, before)).toBe(true);
    await rm(path.join(dir, 'session.key'));
    expect((await Sessions.open(dir, store.sessions)).checkCsrf(visitor, null, before)).toBe(true);
  });

  it('is made at random where an earlier session.key was cut off before its secret was written', async () => {
    const { dir, store } = await open();
    await writeFile(path.join(dir, 'session.key'), '');
    const sessions = await Sessions.open(dir, store.sessions);
    const visitor = exchange(`platen_visitor=${'A'.repeat(22)}`).req;
    const unkeyed = createHmac('sha256', Buffer.alloc(0))
      .update(`csrf-visitor\0${'A'.repeat(22)}`)
      .digest('base64url');
    expect(sessions.checkCsrf(visitor, null, unkeyed)).toBe(false);
    const token = sessions.csrfToken(visitor, exchange().res, null);
    expect((await Sessions.open(dir, store.sessions)).checkCsrf(visitor, null, token)).toBe(true);
  });
});
