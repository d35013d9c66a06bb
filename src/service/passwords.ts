import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes: argon2id (Node's own crypto.argon2), with the parameters OWASP recommends for it
 * (19 MiB, 2 passes, 1 lane), written in the PHC string format other argon2 libraries read, so the
 * parameters can be raised later and older hashes still verify.
 */
const PARAMETERS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 };

function derive(
  password: string,
  salt: Buffer,
  p: { memory: number; passes: number; parallelism: number; tagLength: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: password, nonce: salt, ...p }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded base64, as PHC strings are). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMETERS);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  const { memory: m, passes: t, parallelism: p } = PARAMETERS;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Whether a password is the one a PHC string was made from (its own parameters, in constant time). */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const [, m, t, p, salt, hash] = PHC.exec(phc) ?? [];
  if (!hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await derive(password, Buffer.from(salt!, 'base64'), {
    memory: Number(m),
    passes: Number(t),
    parallelism: Number(p),
    tagLength: expected.length,
  });
  return timingSafeEqual(got, expected);
}

let nobody: Promise<string> | null = null;

/**
 * A hash of no one's password (made on first use): checked when no one signs in with the email
 * given, so the answer takes as long as for a wrong password, and does not tell which emails have
 * an account.
 */
export const nobodysHash = (): Promise<string> => (nobody ??= hashPassword(randomBytes(16).toString('hex')));
