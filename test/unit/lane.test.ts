/** The unit lane holds to its boundary (test/support/unit-lane.ts, vitest.config.ts). */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo.js';

describe('the unit lane', () => {
  it('starts no process', () => {
    expect(() => spawn(process.execPath, ['--version'])).toThrow(/belongs in the integration lane/);
    expect(() => execFile('qpdf', ['--version'])).toThrow(/belongs in the integration lane/);
  });

  it('opens no port', () => {
    expect(() => createServer().listen(0)).toThrow(/belongs in the integration lane/);
  });

  it('imports nothing from the build', async () => {
    const built = pathToFileURL(path.join(REPO_ROOT, 'dist/cli.js')).href;
    await expect(import(/* @vite-ignore */ built)).rejects.toThrow(/runs without a build/);
  });
});
