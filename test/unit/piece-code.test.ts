import { describe, expect, it } from 'vitest';
import {
  newPieceCode,
  PIECE_CODE_LENGTH,
  parsePieceCode,
  pieceCodeFor,
  SAMPLE_PIECE_CODE,
} from '../../src/model/piece-code.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{12}[0-9A-HJKMNP-TV-Z*~$=U]$/;

describe('piece codes', () => {
  it('are twelve Crockford base32 symbols and a check symbol, and differ every time', () => {
    const codes = new Set(Array.from({ length: 2000 }, newPieceCode));
    expect(codes.size).toBe(2000);
    for (const code of codes) {
      expect(code).toHaveLength(PIECE_CODE_LENGTH);
      expect(code).toMatch(CROCKFORD);
      expect(parsePieceCode(code)).toBe(code);
    }
  });

  it('carry 60 random bits: every symbol position takes every value', () => {
    const seen = Array.from({ length: 12 }, () => new Set<string>());
    for (let i = 0; i < 3000; i++) [...newPieceCode().slice(0, 12)].forEach((s, p) => seen[p]!.add(s));
    for (const position of seen) expect(position.size).toBe(32);
  });

  it('check symbol is the value mod 37, as Crockford defines it', () => {
    expect(parsePieceCode('000000000010*')).toBe('000000000010*'); // 32
    expect(parsePieceCode('000000000014U')).toBe('000000000014U'); // 36
    expect(parsePieceCode('0000000000150')).toBe('0000000000150'); // 37
    expect(parsePieceCode('0000000000151')).toBeNull();
    expect(checkOf('7KQ2M9XDP4T8')).toBe(parsePieceCode(`7KQ2M9XDP4T8${checkOf('7KQ2M9XDP4T8')}`)?.at(-1));
  });

  it('are read as people type them: any case, hyphens, I and L as 1, O as 0', () => {
    const code = newPieceCode();
    const typed = `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`.toLowerCase();
    expect(parsePieceCode(typed)).toBe(code);
    expect(parsePieceCode('0000000000000'.replaceAll('0', 'o'))).toBe(SAMPLE_PIECE_CODE);
    expect(parsePieceCode('00000000000I1')).toBe('0000000000011');
  });

  it('refuse a mistyped symbol, a swapped pair, a wrong length and foreign symbols', () => {
    const good = `7KQ2M9XDP4T8${checkOf('7KQ2M9XDP4T8')}`;
    expect(parsePieceCode(good)).toBe(good);
    expect(parsePieceCode(`8${good.slice(1)}`)).toBeNull();
    expect(parsePieceCode(`K7${good.slice(2)}`)).toBeNull();
    expect(parsePieceCode(`${good}0`)).toBeNull();
    expect(parsePieceCode(good.slice(1))).toBeNull();
    expect(parsePieceCode('')).toBeNull();
    expect(parsePieceCode('../../etc/pass')).toBeNull();
    expect(parsePieceCode('ÄÄÄÄÄÄÄÄÄÄÄÄÄ')).toBeNull();
  });

  it('of a batch row are fixed by the job seed and row, and unrelated across seeds', () => {
    expect(pieceCodeFor('seed-a', 7)).toBe(pieceCodeFor('seed-a', 7));
    expect(pieceCodeFor('seed-a', 7)).not.toBe(pieceCodeFor('seed-a', 8));
    expect(pieceCodeFor('seed-a', 7)).not.toBe(pieceCodeFor('seed-b', 7));
    expect(parsePieceCode(pieceCodeFor('seed-a', 7))).toBe(pieceCodeFor('seed-a', 7));
  });
});

/** The check symbol, computed independently of the module. */
function checkOf(digits: string): string {
  const symbols = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let value = 0n;
  for (const s of digits) value = value * 32n + BigInt(symbols.indexOf(s));
  return `${symbols}*~$=U`[Number(value % 37n)]!;
}
