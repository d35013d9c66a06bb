/** Assertions on validation problems, as compile returns them and as the CLI prints them. */
import { expect } from 'vitest';
import type { Problem } from '../../src/errors.js';

/** One expected problem: its exact path and rule, and a fragment of (or a pattern for) its message. */
export interface Expected {
  path: string;
  rule: string;
  message: string | RegExp;
}

function expectMessage(message: string, expected: string | RegExp): void {
  if (typeof expected === 'string') expect(message).toContain(expected);
  else expect(message).toMatch(expected);
}

/** Exactly these problems, in this order: paths and rules equal, messages containing the fragment. */
export function expectProblems(problems: readonly Problem[], expected: readonly Expected[]): void {
  expect(pathsAndRules(problems)).toEqual(expected.map(({ path: p, rule }) => ({ path: p, rule })));
  expected.forEach((e, i) => expectMessage(problems[i]!.message, e.message));
}

/** CLI output holding exactly one `path: message` line per expected problem, in order. */
export function expectProblemLines(output: string, expected: readonly Expected[]): void {
  const out = lines(output);
  expect(out).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    const line = out[i]!;
    const prefix = `${e.path || '(root)'}: `;
    expect(line.startsWith(prefix), `line ${i}: ${line.slice(0, 200)}`).toBe(true);
    expectMessage(line.slice(prefix.length), e.message);
  });
}

/** Problems reduced to what the tests compare: path and rule, in order. */
export const pathsAndRules = (problems: readonly Problem[]): { path: string; rule: string }[] =>
  problems.map(({ path: p, rule }) => ({ path: p, rule }));

/** Non-empty output lines. */
export const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
