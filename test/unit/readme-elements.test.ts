import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../src/elements/registry.js';
import { REPO_ROOT } from '../support/repo.js';

/** The README's element table, as the registry describes the kinds (each kind's editor summary). */
function tableFromRegistry(): string {
  const rows = Object.values(KINDS).map((kind) => `| \`${kind.type}\` | ${kind.editor.summary} |`);
  return ['| type | keys |', '|---|---|', ...rows].join('\n');
}

describe("README's element table", () => {
  it('lists every kind of the registry, in its order, as the kind describes itself', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('| type | keys |');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n\n', start);
    expect(readme.slice(start, end)).toBe(tableFromRegistry());
  });
});
