import { type Cipheriv, createCipheriv } from 'node:crypto';
import type { PieceIdentity } from './record.js';

/**
 * A piece's response code: its number (pieces are numbered 1, 2, 3, … as they are allocated) under a
 * secret 60-bit permutation, written in Crockford's base32 (no I, L, O or U, so it can be read aloud
 * and typed) with his mod-37 check symbol, so a mistyped code is refused rather than matched to
 * someone else's piece. Without the key the codes are indistinguishable from 60 random bits: they
 * say nothing about the piece, its recipient or how many pieces there are, and guessing one is a
 * one-in-2^60-per-piece draw. With it, a code turns back into its piece's number, so pieces are
 * stored in the order they are made and found without an index of random codes (see docs/perf.md).
 */
const SYMBOLS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_SYMBOLS = `${SYMBOLS}*~$=U`;
const HALF_BITS = 30;
const HALF = 2 ** HALF_BITS;
/** Feistel rounds over AES: four make a keyed pseudorandom permutation (Luby and Rackoff). */
const ROUNDS = 4;

/** Twelve symbols and the check symbol. */
export const PIECE_CODE_LENGTH = 13;

/** The code previews, sample checks and the offline CLI print: it names no piece. */
export const SAMPLE_PIECE_CODE = write(0, 0);

/** A piece's identity: its code, and its tracked URL at the service's public address. */
export const pieceIdentity = (publicUrl: string, code: string): PieceIdentity => ({
  code,
  url: `${publicUrl}/r/${code}`,
});

/** The codes of one installation, under its secret key (32 bytes, kept by the store). */
export class PieceCodes {
  /** AES-256 under the key, one block at a time: the round function. */
  private readonly cipher: Cipheriv;
  private readonly block = Buffer.alloc(16);

  constructor(key: Buffer) {
    this.cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  }

  /** The code of piece number `n` (a positive safe integer). */
  code(n: number): string {
    let left = Math.floor(n / HALF);
    let right = n % HALF;
    for (let round = 0; round < ROUNDS; round++) [left, right] = [right, left ^ this.mix(round, right)];
    return write(left, right);
  }

  /** The number of the piece a code names, or null when the text is no code of this installation's. */
  number(text: string): number | null {
    const code = parsePieceCode(text);
    if (code === null || code === SAMPLE_PIECE_CODE) return null;
    let left = 0;
    let right = 0;
    for (let i = 0; i < 6; i++) left = left * 32 + SYMBOLS.indexOf(code[i]!);
    for (let i = 6; i < 12; i++) right = right * 32 + SYMBOLS.indexOf(code[i]!);
    for (let round = ROUNDS - 1; round >= 0; round--) [left, right] = [right ^ this.mix(round, left), left];
    const n = left * HALF + right;
    return n >= 1 && n <= Number.MAX_SAFE_INTEGER ? n : null;
  }

  /** The round function: 30 bits of the AES encryption of the round and one half. */
  private mix(round: number, half: number): number {
    this.block.writeUInt8(round, 0);
    this.block.writeUInt32BE(half, 1);
    return this.cipher.update(this.block).readUInt32BE(0) % HALF;
  }
}

/** Two 30-bit halves as twelve symbols and the check symbol of their 60-bit value. */
function write(left: number, right: number): string {
  let out = '';
  for (const half of [left, right])
    for (let shift = HALF_BITS - 5; shift >= 0; shift -= 5)
      out += SYMBOLS[Math.floor(half / 2 ** shift) % 32];
  // (left · 2^30 + right) mod 37, without leaving the safe integers.
  return out + CHECK_SYMBOLS[((left % 37) * (HALF % 37) + (right % 37)) % 37]!;
}

/**
 * The code a person or a scanner gave, in its one written form, or null when it is not a code: case
 * and hyphens are ignored and the look-alikes read as Crockford says (I and L as 1, O as 0), then the
 * check symbol must agree.
 */
export function parsePieceCode(text: string): string | null {
  const plain = text.toUpperCase().replaceAll('-', '').replace(/[IL]/g, '1').replaceAll('O', '0');
  if (plain.length !== PIECE_CODE_LENGTH) return null;
  let left = 0;
  let right = 0;
  for (let i = 0; i < 12; i++) {
    const digit = SYMBOLS.indexOf(plain[i]!);
    if (digit < 0) return null;
    if (i < 6) left = left * 32 + digit;
    else right = right * 32 + digit;
  }
  return write(left, right) === plain ? plain : null;
}
