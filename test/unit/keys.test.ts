/**
 * A key's last use, as authentication records it: written when none is recorded or the one recorded
 * is a minute old, and not otherwise, so a busy key does not write on every request; a store that
 * cannot write it (a full disk) does not refuse the caller.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { KeyService, LAST_USED_EVERY_MS } from '../../src/service/keys.js';
import type { ApiKey, Store } from '../../src/store/store.js';

const SECRET = 'platen_test';

/** A store holding one live key, recording each write of its last use (or failing them). */
function storeWith(lastUsedAt: string | null, failWrites = false) {
  const key: ApiKey = {
    id: 'k1',
    name: 'CRM sync',
    role: 'marketing',
    repId: null,
    createdAt: '2026-11-01T09:00:00.000Z',
    revokedAt: null,
    lastUsedAt,
  };
  const writes: string[] = [];
  const hash = createHash('sha256').update(SECRET).digest('hex');
  const store = {
    keys: {
      findLive: async (keyHash: string) => (keyHash === hash ? { ...key } : null),
      used: async (_id: string, at: string) => {
        if (failWrites) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        writes.push(at);
      },
    },
  } as unknown as Store;
  return { keys: new KeyService(store), writes };
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('authenticating a key', () => {
  test('records the first use of a key never used', async () => {
    const { keys, writes } = storeWith(null);
    const caller = await keys.authenticate(SECRET);
    expect(writes).toHaveLength(1);
    expect(caller?.lastUsedAt).toBe(writes[0]);
  });

  test('writes nothing while the recorded use is under a minute old', async () => {
    const recent = ago(LAST_USED_EVERY_MS - 5000);
    const { keys, writes } = storeWith(recent);
    expect((await keys.authenticate(SECRET))?.lastUsedAt).toBe(recent);
    expect(writes).toEqual([]);
  });

  test('records the use again once the recorded one is a minute old', async () => {
    const { keys, writes } = storeWith(ago(LAST_USED_EVERY_MS + 1000));
    await keys.authenticate(SECRET);
    expect(writes).toHaveLength(1);
    expect(Date.now() - Date.parse(writes[0]!)).toBeLessThan(LAST_USED_EVERY_MS);
  });

  test('lets the caller in when the store cannot write the use, and refuses an unknown key', async () => {
    const { keys } = storeWith(null, true);
    expect((await keys.authenticate(SECRET))?.id).toBe('k1');
    expect(await keys.authenticate('platen_other')).toBeNull();
  });
});
