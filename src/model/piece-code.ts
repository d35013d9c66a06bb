import { createHmac, randomBytes } from 'node:crypto';
import type { PieceIdentity } from './record.js';

/**
 * A piece's response code: 60 bits, random or derived from a job's secret seed and a row, written in
 * Crockford's base32 (no I, L, O or U, so it can be read aloud and typed) with his mod-37 check
 * symbol, so a mistyped code is refused rather than matched to someone else's piece. It says nothing
 * about the piece or its recipient.
 */
const SYMBOLS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_SYMBOLS = `${SYMBOLS}*~$=U`;
const DIGITS = 12;
const MASK = (1n << 60n) - 1n;

/** Twelve symbols and the check symbol. */
export const PIECE_CODE_LENGTH = DIGITS + 1;

function encode(bits: bigint): string {
  let value = bits & MASK;
  let out = '';
  for (let i = 0; i < DIGITS; i++) {
    out = SYMBOLS[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out + CHECK_SYMBOLS[Number((bits & MASK) % 37n)]!;
}

/** A fresh random code: for a piece made on its own (the form, the API). */
export function newPieceCode(): string {
  return encode(randomBytes(8).readBigUInt64BE());
}

/**
 * The code of a batch row, fixed when its job is created: derived from the job's secret seed, so a
 * resumed or re-rendered row prints the same code, and nobody without the seed can predict another.
 */
export function pieceCodeFor(seed: string, row: number): string {
  return encode(createHmac('sha256', seed).update(String(row)).digest().readBigUInt64BE());
}

/** What a piece with this code prints: its tracked URL (the service's public address and `/r/<code>`) and the code. */
export function pieceIdentity(publicUrl: string, code: string): PieceIdentity {
  return { url: `${publicUrl}/r/${code}`, code };
}

/** A fresh secret seed for a job's codes. */
export const newPieceSeed = (): string => randomBytes(32).toString('hex');

/**
 * The code a person or a scanner gave, in its one written form, or null when it is not a code: case
 * and hyphens are ignored and the look-alikes read as Crockford says (I and L as 1, O as 0), then the
 * check symbol must agree.
 */
export function parsePieceCode(text: string): string | null {
  const plain = text.toUpperCase().replaceAll('-', '').replace(/[IL]/g, '1').replaceAll('O', '0');
  if (plain.length !== PIECE_CODE_LENGTH) return null;
  let value = 0n;
  for (const symbol of plain.slice(0, DIGITS)) {
    const digit = SYMBOLS.indexOf(symbol);
    if (digit < 0) return null;
    value = (value << 5n) | BigInt(digit);
  }
  return encode(value) === plain ? plain : null;
}

/** The code previews, sample checks and the offline CLI print: it names no piece. */
export const SAMPLE_PIECE_CODE = encode(0n);
