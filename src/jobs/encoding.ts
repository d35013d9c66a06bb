import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/**
 * The two encodings a prospect list comes in (UTF-8, and Windows-1252 as Excel writes "CSV"), told
 * apart, and a list's cells decoded one by one. A list is in one encoding; a cell in another (rows
 * saved by another program and added to the list) is never decoded into U+FFFD or into mojibake: it
 * is reported, so that its row is rejected and the rest of the list still prints.
 */

export type CsvEncoding = 'utf-8' | 'windows-1252';

/**
 * The encoding of a list's start: the one most of its non-ASCII text is in (UTF-8 sequences against
 * bytes that are not UTF-8: Windows-1252 text is hardly ever valid UTF-8, and UTF-8 always is). Null
 * when it is all ASCII and the file goes on: its first cell that is not ASCII will tell.
 * `whole`: these are all the file's bytes, so a character cut at their end is an error, not a cut.
 */
export function detectEncoding(bytes: Buffer, whole: boolean): CsvEncoding | null {
  if (isAscii(bytes)) return whole ? 'utf-8' : null;
  let utf8 = 0;
  let other = 0;
  for (let at = 0; at < bytes.length;) {
    const length = utf8Length(bytes, at);
    if (length > 1) utf8++;
    else if (length === 0) {
      if (!whole && at > bytes.length - 4) break; // cut by the sniff
      other++;
    }
    at += Math.max(length, 1);
  }
  return utf8 >= other ? 'utf-8' : 'windows-1252';
}

/** A cell that is not text in its list's encoding: as a person should see it, and what is wrong. */
export interface NotText {
  /** What decodes, and each byte that does not as `\xE9`. */
  shown: string;
  message: string;
}

const NOT_UTF8 =
  'has bytes that are not UTF-8 (shown as \\x and their code), as when rows saved by another program are added to a list: save the whole list as "CSV UTF-8" and send it again';
const UTF8_IN_1252 =
  'is UTF-8 text in a list read as Windows-1252, as when rows saved by another program are added to a list: save the whole list as "CSV UTF-8" and send it again';
const UNDEFINED_IN_1252 =
  'has bytes that Windows-1252 does not define (shown as \\x and their code): save the list as "CSV UTF-8" and send it again';

// eslint-disable-next-line no-control-regex -- the ASCII range, control characters included
const NOT_ASCII = /[^\u0000-\u007f]/;

/**
 * Decodes cells as the parser gives them: bytes, one latin1 character each. ASCII cells, most of a
 * list, are text already. A list whose start is all ASCII is settled by its first other cell (a
 * Windows-1252 list from Excel may have no accent in its first thousand rows).
 */
export class CellDecoder {
  #encoding: CsvEncoding | null;
  /** Given by the caller rather than detected: trusted for every cell. */
  readonly #declared: boolean;

  constructor(encoding: CsvEncoding | null, declared: boolean) {
    this.#encoding = encoding;
    this.#declared = declared;
  }

  decode(cell: string): string | NotText {
    if (!NOT_ASCII.test(cell)) return cell;
    const bytes = Buffer.from(cell, 'latin1');
    const utf8 = isUtf8(bytes);
    this.#encoding ??= utf8 ? 'utf-8' : 'windows-1252';
    if (this.#encoding === 'utf-8')
      return utf8 ? bytes.toString('utf8') : { shown: shown(bytes, 'utf-8'), message: NOT_UTF8 };
    if (utf8 && !this.#declared) return { shown: bytes.toString('utf8'), message: UTF8_IN_1252 };
    const text = iconv.decode(bytes, 'windows-1252');
    // iconv-lite decodes the five bytes Windows-1252 leaves undefined as U+FFFD, which it cannot encode.
    return text.includes('\uFFFD')
      ? { shown: shown(bytes, 'windows-1252'), message: UNDEFINED_IN_1252 }
      : text;
  }
}

/** The bytes, decoded where they are text in `encoding`, and each byte that is not as `\xE9`. */
function shown(bytes: Buffer, encoding: CsvEncoding): string {
  const decode = (from: number, to: number) =>
    encoding === 'utf-8'
      ? bytes.toString('utf8', from, to)
      : iconv.decode(bytes.subarray(from, to), 'windows-1252');
  let text = '';
  let start = 0; // of the bytes that decode, before `at`
  for (let at = 0; at < bytes.length;) {
    const byte = bytes[at]!;
    const length = encoding === 'utf-8' ? utf8Length(bytes, at) : UNDEFINED_BYTES.has(byte) ? 0 : 1;
    if (length > 0) {
      at += length;
      continue;
    }
    text += `${decode(start, at)}\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    start = ++at;
  }
  return text + decode(start, bytes.length);
}

/** The bytes Windows-1252 leaves undefined. */
const UNDEFINED_BYTES = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** The length of the UTF-8 character at `at`, or 0 if the bytes there are not one. */
function utf8Length(bytes: Buffer, at: number): number {
  const byte = bytes[at]!;
  const length = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
  // isUtf8 refuses what the lead byte alone does not: overlong forms, surrogates, beyond U+10FFFF.
  return length > 1 && !isUtf8(bytes.subarray(at, at + length)) ? 0 : length;
}
