/**
 * The unit lane's boundary, set up before each of its test files: starting a process (the built CLI,
 * qpdf, poppler, ghostscript, unzip, chromium) or listening on a port (a server) throws, naming the
 * lane such a test belongs to. Builtins are patched where every importer sees them, libraries too.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): () => never {
  return () => {
    throw new Error(`${what} in the unit lane: a test that needs it belongs in the integration lane`);
  };
}

const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  childProcess[name] = refuse(`child_process.${name}`);
}
syncBuiltinESMExports();
net.Server.prototype.listen = refuse('Listening on a port');
