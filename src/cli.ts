#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadRecordImages } from './assets/record-images.js';
import { formatProblem, PlatenError } from './errors.js';
import { CannotWriteError, writeAtomically } from './files.js';
import type { RecordImages } from './merge/merge.js';
import { preparePiece, samples, writePieces } from './pipeline.js';
import { compileTemplate } from './template/compile.js';
import { recordJsonSchema } from './template/record-schema.js';
import { validateTemplate } from './template/validate.js';
import { loadConfig } from './config.js';
import { startServer } from './server.js';
import { ROLES } from './store/keys.js';
import { Store } from './store/store.js';

/** Exit codes: 0 done, 1 the input was rejected, 2 the command was used wrongly. */
const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

class UsageError extends Error {}

const program = new Command()
  .name('platen')
  .description('Marketing-approved templates in, personalized print-ready PDFs out.')
  .exitOverride()
  .showHelpAfterError();

program
  .command('validate')
  .description('check a template package: manifest, assets, fonts, paths, geometry, samples')
  .argument('<template-dir>')
  .option('--json', 'print the report as JSON')
  .action(async (dir: string, opts: { json?: boolean }) => {
    const { problems } = await validateTemplate(dir);
    if (opts.json)
      process.stdout.write(`${JSON.stringify({ valid: problems.length === 0, problems }, null, 2)}\n`);
    else if (problems.length === 0) process.stdout.write(`${dir}: valid\n`);
    else for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
    process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.rejected;
  });

program
  .command('schema')
  .description('print the JSON Schema (draft 2020-12) of the record a template accepts')
  .argument('<template-dir>')
  .action(async (dir: string) => {
    const compiled = await compileTemplate(dir);
    process.stdout.write(`${JSON.stringify(recordJsonSchema(compiled.manifest), null, 2)}\n`);
  });

program
  .command('render')
  .description("render one record (or one of the template's samples) into a PDF")
  .argument('<template-dir>')
  .option(
    '--record <record.json>',
    'the record: { rep, prospect, fields }; image inputs are paths relative to it',
  )
  .option('--sample <n>', 'render sample n (from 0) of the template instead of a record file')
  .requiredOption('--out <file.pdf>', 'where to write the PDF (written only when complete)')
  .action(async (dir: string, opts: { record?: string; sample?: string; out: string }) => {
    if ((opts.record === undefined) === (opts.sample === undefined)) {
      throw new UsageError('give exactly one of --record and --sample');
    }
    const compiled = await compileTemplate(dir);
    let record: unknown;
    let images: RecordImages;
    if (opts.record !== undefined) {
      record = await readJson(opts.record);
      images = await loadRecordImages(compiled, record, dirname(resolve(opts.record)));
    } else {
      const sample = samples(compiled)[Number(opts.sample)];
      if (!/^\d+$/.test(opts.sample!) || !sample) {
        throw new UsageError(
          `no sample ${opts.sample}: the template has ${compiled.manifest.samples.length}`,
        );
      }
      ({ record, images } = sample);
    }
    const piece = preparePiece(compiled, record, images);
    await writeAtomically(opts.out, (out) => writePieces(compiled, [piece], out, { single: true }));
  });

program
  .command('serve')
  .description('run the HTTP service (configured by environment variables: PORT, PLATEN_DATA_DIR, ...)')
  .action(async () => {
    const running = await startServer(loadConfig());
    const stop = () => {
      running.services.log.info('shutting down: finishing requests in flight');
      void running.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

const keys = program.command('keys').description('manage API keys in the data directory (PLATEN_DATA_DIR)');

keys
  .command('create')
  .description('create a key and print it (shown once; only its hash is kept)')
  .requiredOption('--role <role>', 'admin, marketing or rep')
  .option('--rep-id <id>', 'the rep profile a rep key acts as (required for rep keys)')
  .option('--name <name>', 'who or what the key is for')
  .action((opts: { role: string; repId?: string; name?: string }) => {
    const role = ROLES.find((r) => r === opts.role);
    if (!role) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    if ((role === 'rep') !== (opts.repId !== undefined))
      throw new UsageError('--rep-id is required for rep keys and only for them');
    withStore((store) => {
      if (opts.repId) store.reps.ensure(opts.repId);
      const { key, apiKey } = store.keys.create({
        role,
        repId: opts.repId,
        name: opts.name ?? `${role} key`,
      });
      process.stdout.write(`${key}\n`);
      process.stderr.write(`created ${role} key ${apiKey.id}\n`);
    });
  });

keys
  .command('revoke')
  .description('revoke a key by its id')
  .argument('<id>')
  .action((id: string) => {
    withStore((store) => {
      if (!store.keys.revoke(id)) throw new UsageError(`no live key ${id}`);
      process.stderr.write(`revoked key ${id}\n`);
    });
  });

keys
  .command('list')
  .description('list keys (never their secrets)')
  .action(() => {
    withStore((store) => {
      for (const k of store.keys.list()) {
        process.stdout.write(
          `${k.id}  ${k.role.padEnd(9)}  ${(k.repId ?? '-').padEnd(12)}  ${k.revokedAt ? 'revoked' : 'live   '}  ${k.name}\n`,
        );
      }
    });
  });

function withStore(use: (store: Store) => void): void {
  const store = new Store(loadConfig().dataDir);
  try {
    use(store);
  } finally {
    store.close();
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlatenError('invalid_json', [
      { path, rule: 'json', message: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError || error instanceof CannotWriteError) {
      process.stderr.write(`platen: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof PlatenError) {
      for (const p of error.problems) process.stderr.write(`${formatProblem(p)}\n`);
      return EXIT.rejected;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv);
