/**
 * The layer rules `npm run lint` enforces (.dependency-cruiser.js) catch what they are for: a copy of
 * src/ with one import planted in it must fail dependency-cruiser, naming the rule, while the copy as
 * it is passes.
 */
import { appendFile, cp, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../support/files.js';
import { REPO_ROOT, runNode } from '../support/repo.js';

const DEPCRUISE = path.join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** Runs dependency-cruiser over a copy of src/, with `plant` appended to one of its files first. */
async function cruiseWith(plant?: { file: string; line: string }) {
  return withTempDir('platen-layers-', async (dir) => {
    await cp(path.join(REPO_ROOT, 'src'), path.join(dir, 'src'), { recursive: true });
    for (const file of ['.dependency-cruiser.js', 'tsconfig.json', 'package.json'])
      await cp(path.join(REPO_ROOT, file), path.join(dir, file));
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    if (plant) await appendFile(path.join(dir, 'src', plant.file), `\n${plant.line}\n`);
    return runNode([DEPCRUISE, 'src'], dir);
  });
}

describe('the layer rules', () => {
  it('pass on src/ as it is', async () => {
    const { code, stdout } = await cruiseWith();
    expect(stdout).toContain('no dependency violations found');
    expect(code).toBe(0);
  });

  it.each([
    [
      'a step importing a service',
      'merge/merge.ts',
      "import '../service/render.js';",
      'steps-imports-upward',
    ],
    [
      'a step importing another step',
      'render/tagging.ts',
      "import '../merge/merge.js';",
      'step-render-imports-a-step',
    ],
    [
      'an element importing a step',
      'elements/rect/index.ts',
      "import '../../layout/piece.js';",
      'elements-imports-upward',
    ],
    [
      'a face importing the store',
      'api/app.ts',
      "import '../store/sqlite/store.js';",
      'store-outside-services',
    ],
    [
      'a circular import in the model',
      'model/geometry.ts',
      "import type {} from './piece.js';",
      'no-circular',
    ],
  ])('fail on %s', async (_what, file, line, rule) => {
    const { code, stdout } = await cruiseWith({ file, line });
    expect(stdout).toContain(`error ${rule}`);
    expect(code).not.toBe(0);
  });
});
