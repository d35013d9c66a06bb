/**
 * Bad template packages (template-cases.ts) checked by `validateTemplate`: each is rejected with
 * exactly the problems its case names, in order, with their path, rule and message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { validateTemplate } from '../../src/validate.js';
import { expectProblems } from '../support/problems.js';
import { cases, pkg, temp } from './template-cases.js';

afterAll(() => temp.cleanup());

describe('the base package', () => {
  it('is valid, so each case below fails for its own reason only', async () => {
    const dir = await pkg();
    const { compiled, problems } = await validateTemplate(dir);
    expect(problems).toEqual([]);
    expect(compiled?.id).toBe('bad-input-base');
  });
});

describe.concurrent('bad templates', () => {
  describe.each(cases)('bad template: $name', ({ build, expected }) => {
    it('validateTemplate reports exactly these problems', async () => {
      const dir = await build();
      const { problems } = await validateTemplate(dir);
      expectProblems(problems, typeof expected === 'function' ? expected(dir) : expected);
    });
  });
});
