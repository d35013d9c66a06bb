/** Where things are in the repository, and running node and the built CLI, for every test that needs them. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATES_DIR = path.join(REPO_ROOT, 'templates');
/** The bundled templates every face serves. */
export const BUNDLED = [
  'insurance-brochure',
  'letter-window',
  'multilingual-sample',
  'postcard-6x4',
] as const;
export const BROCHURE_DIR = path.join(TEMPLATES_DIR, 'insurance-brochure');
export const BROCHURE_FONTS = path.join(BROCHURE_DIR, 'fonts');
/** The built CLI: `npm test` builds before it runs the tests. */
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** The bundled template folders, sorted. */
export function discoverTemplates(): string[] {
  return readdirSync(TEMPLATES_DIR, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && existsSync(path.join(TEMPLATES_DIR, entry.name, 'template.json')),
    )
    .map((entry) => entry.name)
    .sort();
}

export interface CliResult {
  /** The exit code; -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` to completion; resolves with the exit code, never rejects on it. */
export function runNode(args: readonly string[], cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the built CLI (`node dist/cli.js ...args`) to completion. */
export function runCli(args: readonly string[], cwd = REPO_ROOT): Promise<CliResult> {
  return runNode([CLI, ...args], cwd);
}

/** Fails early, with the fix, when the CLI has not been built. */
export async function requireBuiltCli(): Promise<void> {
  await access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  });
}

/**
 * Runs an ES module snippet in a fresh Node process (for cases that could corrupt the process that
 * runs them, such as prototype pollution) and returns its stdout parsed as JSON.
 */
export async function runModule(source: string): Promise<unknown> {
  const result = await runNode(['--input-type=module', '-e', source], REPO_ROOT);
  if (result.code !== 0) throw new Error(`child exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown;
}
