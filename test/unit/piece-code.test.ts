import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PIECE_CODE_LENGTH,
  PieceCodes,
  parsePieceCode,
  SAMPLE_PIECE_CODE,
} from '../../src/model/piece-code.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{12}[0-9A-HJKMNP-TV-Z*~$=U]$/;
const codes = new PieceCodes(randomBytes(32));

/** The check symbol, computed independently of the module: the 60-bit value mod 37. */
function checkOf(digits: string): string {
  const symbols = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let value = 0n;
  for (const s of digits) value = value * 32n + BigInt(symbols.indexOf(s));
  return `${symbols}*~$=U`[Number(value % 37n)]!;
}

describe('piece codes', () => {
  it('are twelve Crockford base32 symbols and the check symbol of their value', () => {
    for (let n = 1; n <= 2000; n++) {
      const code = codes.code(n);
      expect(code).toHaveLength(PIECE_CODE_LENGTH);
      expect(code).toMatch(CROCKFORD);
      expect(code.at(-1)).toBe(checkOf(code.slice(0, 12)));
    }
  });

  it('turn back into their numbers, and differ for every number', () => {
    const seen = new Set<string>();
    for (const n of [1, 2, 3, 499, 500, 501, 2 ** 30 - 1, 2 ** 30, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      const code = codes.code(n);
      expect(codes.number(code)).toBe(n);
      seen.add(code);
    }
    for (let n = 1; n <= 5000; n++) seen.add(codes.code(n));
    // 1 to 5000, and the four beyond them.
    expect(seen.size).toBe(5000 + 4);
  });

  it('of consecutive numbers look unrelated: every symbol position takes every value', () => {
    const positions = Array.from({ length: 12 }, () => new Set<string>());
    for (let n = 1; n <= 3000; n++) [...codes.code(n).slice(0, 12)].forEach((s, p) => positions[p]!.add(s));
    for (const position of positions) expect(position.size).toBe(32);
  });

  it('depend on the key: another installation reads none of them', () => {
    const other = new PieceCodes(randomBytes(32));
    expect(other.code(1)).not.toBe(codes.code(1));
    let matched = 0;
    for (let n = 1; n <= 1000; n++) if (other.number(codes.code(n)) === n) matched++;
    expect(matched).toBe(0);
  });

  it('are read as people type them: any case, hyphens, I and L as 1, O as 0', () => {
    const code = codes.code(42);
    const typed = `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`.toLowerCase();
    expect(codes.number(typed)).toBe(42);
    expect(parsePieceCode('0000000000000'.replaceAll('0', 'o'))).toBe(SAMPLE_PIECE_CODE);
    expect(parsePieceCode('00000000000I1')).toBe('0000000000011');
  });

  it('check symbol is the value mod 37, as Crockford defines it', () => {
    expect(parsePieceCode('000000000010*')).toBe('000000000010*'); // 32
    expect(parsePieceCode('000000000014U')).toBe('000000000014U'); // 36
    expect(parsePieceCode('0000000000150')).toBe('0000000000150'); // 37
    expect(parsePieceCode('0000000000151')).toBeNull();
  });

  it('refuse a mistyped symbol, a swapped pair, a wrong length, foreign symbols and the sample', () => {
    const good = codes.code(7);
    const mistyped = `${good[0] === '7' ? '8' : '7'}${good.slice(1)}`;
    expect(codes.number(mistyped)).toBeNull();
    if (good[0] !== good[1]) expect(codes.number(`${good[1]}${good[0]}${good.slice(2)}`)).toBeNull();
    expect(codes.number(`${good}0`)).toBeNull();
    expect(codes.number(good.slice(1))).toBeNull();
    expect(codes.number('')).toBeNull();
    expect(codes.number('../../etc/pass')).toBeNull();
    expect(codes.number('ÄÄÄÄÄÄÄÄÄÄÄÄÄ')).toBeNull();
    expect(codes.number(SAMPLE_PIECE_CODE)).toBeNull();
  });
});
