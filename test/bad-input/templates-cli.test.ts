/**
 * Bad template packages (template-cases.ts) checked by `platen validate`, as built: exit code 1 and
 * one `path: message` line per problem on stdout; and template paths naming prototype members, which
 * run in a child process so that a regression pollutes the child, never the test runner.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { EL, el } from '../support/base-package.js';
import { expectProblemLines, expectProblems, pathsAndRules } from '../support/problems.js';
import { REPO_ROOT, requireBuiltCli, runCli, runModule } from '../support/repo.js';
import { cases, pkg, setElement, temp } from './template-cases.js';

afterAll(() => temp.cleanup());

beforeAll(requireBuiltCli);

describe('the base package', () => {
  it('is valid, so each case below fails for its own reason only', async () => {
    const dir = await pkg();
    const cli = await runCli(['validate', dir]);
    expect(cli).toEqual({ code: 0, stdout: `${dir}: valid\n`, stderr: '' });
  });
});

describe.concurrent('bad templates', () => {
  describe.each(cases)('bad template: $name', ({ build, expected }) => {
    it('platen validate exits 1 with one path: message line per problem', async () => {
      const dir = await build();
      const { code, stdout, stderr } = await runCli(['validate', dir]);
      expect(stderr).toBe('');
      expectProblemLines(stdout, typeof expected === 'function' ? expected(dir) : expected);
      expect(code).toBe(1);
    });
  });
});

describe('platen validate --json', () => {
  it('reports the same problems as JSON with valid: false', async () => {
    const dir = await pkg(setElement(EL.greeting, { text: 'Hi {{prospect.middleName}}' }));
    const { code, stdout } = await runCli(['validate', '--json', dir]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { valid: boolean; problems: Problem[] };
    expect(report.valid).toBe(false);
    expect(pathsAndRules(report.problems)).toEqual([{ path: `${el(EL.greeting)}.text`, rule: 'template' }]);
  });
});

/**
 * A Handlebars path whose first part is not rep, prospect or fields must be refused as "not a record
 * path". Paths like `__proto__.toString` reach Object.prototype through the manifest and the empty
 * context built to pre-run the template, so these run in a child process: a regression pollutes the
 * child, never the test runner.
 */
describe.concurrent('template paths that name prototype members', () => {
  const sources = [
    '{{__proto__.toString}}',
    '{{constructor.assign}}',
    '{{constructor.name}}',
    '{{hasOwnProperty.length}}',
  ];

  it.each(sources)('%s is rejected and leaves the builtins untouched (validateTemplate)', async (source) => {
    const dir = await pkg(setElement(EL.greeting, { text: source }));
    const validate = pathToFileURL(path.join(REPO_ROOT, 'dist/validate.js')).href;
    const result = (await runModule(`
      const { validateTemplate } = await import(${JSON.stringify(validate)});
      const intact = () => ({
        toString: typeof Object.prototype.toString === 'function',
        assign: typeof Object.assign === 'function',
        name: Object.name,
      });
      let problems, thrown;
      try { ({ problems } = await validateTemplate(${JSON.stringify(dir)})); }
      catch (error) { thrown = String(error); }
      process.stdout.write(JSON.stringify({ problems, thrown, builtins: intact() }));
    `)) as { problems?: Problem[]; thrown?: string; builtins: Record<string, unknown> };
    expect(result.builtins).toEqual({ toString: true, assign: true, name: 'Object' });
    expect(result.thrown).toBeUndefined();
    expectProblems(result.problems ?? [], [
      { path: `${el(EL.greeting)}.text`, rule: 'template', message: 'is not a record path' },
    ]);
  });

  it.each(sources)('%s makes platen validate exit 1 with one problem line', async (source) => {
    const dir = await pkg(setElement(EL.greeting, { text: source }));
    const { code, stdout } = await runCli(['validate', dir]);
    expectProblemLines(stdout, [
      { path: `${el(EL.greeting)}.text`, rule: 'template', message: 'is not a record path' },
    ]);
    expect(code).toBe(1);
  });
});
