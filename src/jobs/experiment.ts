import { createHmac, randomBytes } from 'node:crypto';
import { PlatenError, type Problem } from '../errors.js';
import { choiceInputs } from '../model/manifest.js';
import { PieceCodes, pieceIdentity } from '../model/piece-code.js';
import type { PieceIdentity } from '../model/record.js';
import type { CompiledTemplate } from '../model/template.js';

/**
 * What a service job's rows are traced by, fixed when the job is created: the piece numbers allocated
 * to its rows (row N is `firstNumber + N - 1`, so a resumed or re-rendered row prints the same code),
 * a secret seed from which each row's split arm and holdout are drawn (the same on every run), and
 * where tracked URLs lead. The offline CLI's drops have none: their pieces print the sample identity,
 * and nothing records them.
 */
export interface JobPieces {
  firstNumber: number;
  /** The installation's key for piece codes (hex): not kept with the job, given to it as it runs. */
  codeKey: string;
  seed: string;
  /** The service's public address, as it was when the job was created. */
  publicUrl: string;
  /** The CSV column naming each row's recipient; by default the record's `prospect.id`. */
  recipientColumn?: string;
  split?: Split;
  /** The percentage of rows held out: recorded, validated, never printed. */
  holdout?: number;
}

/** A choice input split across a job's rows at random: each row shows one of the arms. */
export interface Split {
  /** The input's record path, e.g. `fields.headline`. */
  input: string;
  /** Its label, for people. */
  label: string;
  /** Choices of that input; each row gets one of them. */
  arms: string[];
}

/** The most of a job's rows that may be held out: a control group, not the drop. */
export const MOST_HELD_OUT = 50;

/** A fresh secret seed for a job's draws. */
export const newJobSeed = (): string => randomBytes(32).toString('hex');

/** Row `row`'s identity in a job, and its piece number. */
export function rowIdentity(pieces: JobPieces, row: number): PieceIdentity & { number: number } {
  const number = pieces.firstNumber + row - 1;
  return { number, ...pieceIdentity(pieces.publicUrl, codesOf(pieces.codeKey).code(number)) };
}

const codes = new Map<string, PieceCodes>();
/** The codes under a key, made once per worker. */
function codesOf(key: string): PieceCodes {
  let found = codes.get(key);
  if (!found) codes.set(key, (found = new PieceCodes(Buffer.from(key, 'hex'))));
  return found;
}

/** The arm of the job's split that row `row` falls in, or null without a split. */
export function armOf(pieces: JobPieces, row: number): string | null {
  const { split } = pieces;
  return split
    ? split.arms[Math.floor(seededFraction(pieces.seed, 'split', row) * split.arms.length)]!
    : null;
}

/** Whether row `row` is held out of the print run. */
export function isHeldOut(pieces: JobPieces, row: number): boolean {
  return pieces.holdout !== undefined && seededFraction(pieces.seed, 'holdout', row) * 100 < pieces.holdout;
}

/**
 * A row's draw for one purpose, uniform in [0, 1): the same every time for a job, independent across
 * purposes (the message differs from a row's code's, which is its number alone), and unknowable
 * without the seed.
 */
function seededFraction(seed: string, purpose: 'split' | 'holdout', row: number): number {
  return createHmac('sha256', seed).update(`${purpose} ${row}`).digest().readUInt32BE() / 2 ** 32;
}

/**
 * A split as a job asks for it, checked against the template: the input must be one of its choice
 * inputs and every arm one of its choices (by default, all of them), two at least. Throws
 * PlatenError naming what to fix.
 */
export function checkedSplit(compiled: CompiledTemplate, input: string, arms?: string[]): Split {
  const choices = choiceInputs(compiled.inputs);
  const def = choices.find((choice) => choice.path === input);
  if (!def) {
    const named = choices.map((choice) => `"${choice.label}" (${choice.path})`);
    throw refusal(
      'split',
      'not_a_choice',
      `only an input with choices can be split, and ${named.length > 0 ? `this template's are ${named.join(', ')}` : 'this template has none'}`,
    );
  }
  const chosen = arms === undefined || arms.length === 0 ? def.choices : [...new Set(arms)];
  const unknown = chosen.filter((arm) => !def.choices.includes(arm));
  if (unknown.length > 0)
    throw refusal(
      'arms',
      'not_a_choice',
      `${unknown.map(quote).join(', ')} ${unknown.length === 1 ? 'is not one' : 'are not'} of the choices of "${def.label}": ${def.choices.map(quote).join(', ')}`,
    );
  if (chosen.length < 2) throw refusal('arms', 'too_few', 'a split needs two arms at least, to compare');
  return { input, label: def.label, arms: chosen };
}

const quote = (text: string) => `"${text}"`;

const refusal = (path: string, rule: string, message: string) =>
  new PlatenError('invalid_request', [{ path, rule, message } satisfies Problem]);
