/**
 * `platen serve` as operations run it: a real process, stopped with SIGTERM while a render is in
 * flight. The render must complete and the process exit cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../support/repo.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not come up');
}

describe('platen serve', () => {
  let dataDir: string;
  let child: ChildProcess;
  let url: string;
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'platen-serve-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        PLATEN_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForHealth(url);
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the admin key once and keeps it in admin.key, readable by its owner only', async () => {
    const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    expect(key).toMatch(/^platen_[A-Za-z0-9_-]{32}$/);
    const { mode } = await stat(path.join(dataDir, 'admin.key'));
    expect(mode & 0o777).toBe(0o600);
  });

  it('finishes a render in flight when stopped with SIGTERM, then exits 0', async () => {
    const admin = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const created = await fetch(`${url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'marketing', name: 'shutdown test' }),
    });
    const { key } = (await created.json()) as { key: string };
    // A preview renders and rasterizes: long enough to still be running when the signal arrives.
    const inFlight = fetch(`${url}/api/v1/previews?page=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ templateId: 'insurance-brochure', sample: 0 }),
    });
    await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('image/png');
    expect((await reply.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(await exited()).toBe(0);
    // And it no longer listens.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
