import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Refuses to go on unless the installed package is the version a patch of its internals was written
 * for: a patch on another version could write wrong bytes without failing.
 */
export function requireVersion(name: string, expected: string, patches: string): void {
  const installed = installedVersion(name);
  if (installed !== expected) {
    throw new Error(
      `${patches} patch ${name} ${expected}, but ${name} ${installed} is installed: install ${name}@${expected}, or check the patches against ${installed} and their tests first`,
    );
  }
}

/** The version in the installed package's package.json (found above its entry point). */
function installedVersion(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
