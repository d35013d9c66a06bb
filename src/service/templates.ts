import { randomBytes } from 'node:crypto';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, PlatenError } from '../errors.js';
import { preparePiece, renderToBuffer, samples } from '../pipeline.js';
import type { ApiKey, Role } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { TemplateVersion } from '../store/templates.js';
import type { TemplateCache } from '../template/cache.js';
import { compileTemplate } from '../template/compile.js';
import type { CompiledTemplate } from '../model/template.js';
import { validateTemplate } from '../validate.js';
import { authorize, can } from './policy.js';
import { unzipPackage } from './unzip.js';

/**
 * The template lifecycle: packages come in as drafts, are published or retired by those the role
 * policy lets manage templates, and are compiled once per version for every face. Everyone else
 * only ever sees published versions.
 */
export class TemplateService {
  constructor(
    private readonly store: Store,
    private readonly cache: TemplateCache,
  ) {}

  /**
   * The version a caller may use: the latest published one, or `version` if given. Callers who do
   * not manage templates get 404 for drafts (and templates with nothing published) and 409 for
   * retired versions.
   */
  resolve(templateId: string, version: number | undefined, role: Role): TemplateVersion {
    const found =
      version === undefined
        ? this.latestFor(templateId, role)
        : this.store.templates.get(templateId, version);
    const what =
      version === undefined ? `template ${templateId}` : `version ${version} of template ${templateId}`;
    const manages = can(role, 'templates.manage');
    if (!found || (!manages && found.state === 'draft')) throw new NotFoundError('not_found', `no ${what}`);
    if (!manages && found.state === 'retired') {
      throw new ConflictError('retired', `${what} is retired: use the latest published version`);
    }
    return found;
  }

  private latestFor(templateId: string, role: Role): TemplateVersion | null {
    if (!can(role, 'templates.manage')) return this.store.templates.latestPublished(templateId);
    return (
      this.store.templates.latestPublished(templateId) ??
      this.store.templates.versions(templateId).at(-1) ??
      null
    );
  }

  compiled(version: TemplateVersion): Promise<CompiledTemplate> {
    return this.cache.get(version.templateId, version.version, () =>
      compileTemplate(this.store.templates.packageDir(version.templateId, version.version), {
        version: version.version,
      }),
    );
  }

  /** Templates a role may list: those who manage templates see all, with states; others published ones. */
  list(role: Role): { id: string; latest: TemplateVersion; published: TemplateVersion | null }[] {
    const all = this.store.templates.list();
    return can(role, 'templates.manage') ? all : all.filter((t) => t.published !== null);
  }

  /** Every version of a template, oldest first, with how many pieces were made from each. */
  versions(caller: ApiKey, templateId: string): (TemplateVersion & { renders: number })[] {
    authorize(caller, 'templates.manage');
    const usage = this.store.renders.usage(templateId);
    return this.store.templates
      .versions(templateId)
      .map((v) => ({ ...v, renders: usage.get(v.version) ?? 0 }));
  }

  /** One version, with how many pieces were made from it; NotFoundError if there is none. */
  version(caller: ApiKey, templateId: string, version: number): TemplateVersion & { renders: number } {
    const found = this.versions(caller, templateId).find((v) => v.version === version);
    if (!found) throw new NotFoundError('not_found', `No version ${version} of template ${templateId}.`);
    return found;
  }

  /**
   * Stores an uploaded package (the path of a zip) as the next draft version of its template. A
   * package with any problem is refused whole (PlatenError, every problem listed) and nothing is kept.
   */
  async upload(caller: ApiKey, zip: string): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const staged = join(this.store.stagingDir, randomBytes(8).toString('hex'));
    try {
      await unzipPackage(zip, staged);
      const { compiled, problems } = await validateTemplate(staged);
      if (!compiled || problems.length > 0) throw new PlatenError('invalid_template', problems);
      return this.store.templates.addVersion({
        stagedDir: staged,
        manifest: compiled.manifest,
        report: [],
        createdBy: caller.name,
        state: 'draft',
      });
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }

  /** Publishes a version once its package compiles and every sample renders. */
  async publish(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const found = this.store.templates.get(templateId, version);
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    if (found.state === 'published')
      throw new ConflictError('already_published', `version ${version} is already published`);
    const compiled = await this.compiled(found);
    const list = samples(compiled);
    if (list.length === 0) {
      throw new PlatenError('not_publishable', [
        { path: 'samples', rule: 'no_samples', message: 'a template needs samples to be published' },
      ]);
    }
    for (const [i, sample] of list.entries()) {
      try {
        await renderToBuffer(compiled, [preparePiece(compiled, sample.record, sample.images)]);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        throw new PlatenError(
          'not_publishable',
          error.problems.map((p) => ({ ...p, path: `samples[${i}].record.${p.path}` })),
        );
      }
    }
    const published = this.store.templates.setState(templateId, version, 'published', caller.name);
    // Another publish of this version won the race while the samples rendered.
    if (!published) throw new ConflictError('already_published', `version ${version} is already published`);
    return published;
  }

  retire(caller: ApiKey, templateId: string, version: number): TemplateVersion {
    authorize(caller, 'templates.manage');
    const found = this.store.templates.get(templateId, version);
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    if (found.state === 'retired')
      throw new ConflictError('already_retired', `version ${version} is already retired`);
    const retired = this.store.templates.setState(templateId, version, 'retired', caller.name);
    if (!retired) throw new ConflictError('already_retired', `version ${version} is already retired`);
    return retired;
  }

  /**
   * First start: each bundled template folder becomes published version 1 of its template, unless
   * the store already has that template. Returns the ids loaded.
   */
  async loadBundled(dir: string): Promise<string[]> {
    const loaded: string[] = [];
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const source = join(dir, entry.name);
      if (!(await stat(join(source, 'template.json')).catch(() => null))) continue;
      const { compiled, problems } = await validateTemplate(source);
      if (!compiled || problems.length > 0)
        throw new PlatenError(
          'invalid_template',
          problems.map((p) => ({ ...p, path: `${entry.name}/${p.path}` })),
        );
      if (this.store.templates.versions(compiled.id).length > 0) continue;
      const staged = join(this.store.stagingDir, randomBytes(8).toString('hex'));
      await cp(source, staged, { recursive: true });
      this.store.templates.addVersion({
        stagedDir: staged,
        manifest: compiled.manifest,
        report: [],
        createdBy: 'bundled',
        state: 'published',
      });
      loaded.push(compiled.id);
    }
    return loaded;
  }
}
