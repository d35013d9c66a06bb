/** Password hashes: argon2id in the PHC string format, verified with the parameters they carry. */
import { argon2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/service/passwords.js';

describe('password hashes', () => {
  it('are argon2id PHC strings, salted, that verify only their own password', async () => {
    const hash = await hashPassword('harbour lights at dusk');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hashPassword('harbour lights at dusk')).not.toBe(hash);
    expect(await verifyPassword('harbour lights at dusk', hash)).toBe(true);
    expect(await verifyPassword('harbour lights at dawn', hash)).toBe(false);
    expect(await verifyPassword('harbour lights at dusk', 'not a hash')).toBe(false);
  });

  it('verify a hash made with other parameters by the parameters it carries', async () => {
    // A hash made before the parameters were raised keeps working.
    const salt = randomBytes(16);
    const tag = argon2Sync('argon2id', {
      message: 'pw',
      nonce: salt,
      memory: 8192,
      passes: 3,
      parallelism: 1,
      tagLength: 32,
    });
    const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    const older = `$argon2id$v=19$m=8192,t=3,p=1$${b64(salt)}$${b64(tag)}`;
    expect(await verifyPassword('pw', older)).toBe(true);
    expect(await verifyPassword('pw', older.replace('t=3', 't=2'))).toBe(false);
  });
});
