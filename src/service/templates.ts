import { randomBytes } from 'node:crypto';
import { cp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, ForbiddenError, NotFoundError, PlatenError } from '../errors.js';
import { preparePiece, renderToBuffer, samples } from '../pipeline.js';
import type { ApiKey, Role, Store, StoredVersion } from '../store/store.js';
import type { TemplateCache } from '../template/cache.js';
import { compileTemplate } from '../template/compile.js';
import { designProblems } from '../template/design-problems.js';
import type { Manifest } from '../model/manifest.js';
import type { CompiledTemplate } from '../model/template.js';
import { validateTemplate } from '../validate.js';
import { authorize, can } from './policy.js';
import type { SettingsService } from './settings.js';
import { unzipPackage } from './unzip.js';

export type { VersionState } from '../store/store.js';

/** One immutable version of a template, with the manifest it was validated with. */
export type TemplateVersion = Omit<StoredVersion, 'manifest'> & { manifest: Manifest };

/** A staged package's template.json as parsed, or undefined when it is missing or not JSON. */
async function manifestJson(dir: string): Promise<unknown> {
  const file = join(dir, 'template.json');
  try {
    // compile refused a larger one, and named it so: there is nothing more to say about it.
    if ((await stat(file)).size > 1024 * 1024) return undefined;
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The store keeps manifests as this service validated them (see upload and loadBundled). */
const typed = (stored: StoredVersion): TemplateVersion => stored as TemplateVersion;
const typedOrNull = (stored: StoredVersion | null): TemplateVersion | null => stored && typed(stored);

/**
 * The template lifecycle: packages come in as drafts, are published or retired by those the role
 * policy lets manage templates, and are compiled once per version for every face. Everyone else
 * only ever sees published versions.
 */
export class TemplateService {
  constructor(
    private readonly store: Store,
    private readonly cache: TemplateCache,
    private readonly stagingDir: string,
    /** Whether versions are published only once approved (see approve): the organisation's setting. */
    private readonly settings: SettingsService,
  ) {}

  /**
   * The version a caller may use: the latest published one, or `version` if given. Callers who do
   * not manage templates get 404 for drafts (and templates with nothing published) and 409 for
   * retired versions.
   */
  async resolve(templateId: string, version: number | undefined, caller: ApiKey): Promise<TemplateVersion> {
    const found =
      version === undefined
        ? await this.latestFor(templateId, caller.role)
        : typedOrNull(await this.store.templates.get(templateId, version));
    const what =
      version === undefined ? `template ${templateId}` : `version ${version} of template ${templateId}`;
    const manages = can(caller.role, 'templates.manage');
    if (!found || (!manages && found.state === 'draft')) throw new NotFoundError('not_found', `no ${what}`);
    if (!manages && found.state === 'retired') {
      throw new ConflictError('retired', `${what} is retired: use the latest published version`);
    }
    return found;
  }

  /** A stored version, whatever its state: a job runs the version it was created with. */
  async stored(templateId: string, version: number): Promise<TemplateVersion> {
    const found = await this.store.templates.get(templateId, version);
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    return typed(found);
  }

  private async latestFor(templateId: string, role: Role): Promise<TemplateVersion | null> {
    const published = typedOrNull(await this.store.templates.latestPublished(templateId));
    if (published || !can(role, 'templates.manage')) return published;
    return typedOrNull((await this.store.templates.versions(templateId)).at(-1) ?? null);
  }

  compiled(version: TemplateVersion): Promise<CompiledTemplate> {
    return this.cache.get(version.templateId, version.version, async () =>
      compileTemplate(await this.packageDir(version), { version: version.version }),
    );
  }

  /** A local folder holding a version's package. */
  packageDir(version: Pick<TemplateVersion, 'templateId' | 'version'>): Promise<string> {
    return this.store.templates.packageDir(version.templateId, version.version);
  }

  /**
   * Templates a caller may list, by id, each with the latest version the caller may see and the
   * latest published one: those who manage templates see every template and version, with states;
   * others the published ones only.
   */
  async list(
    caller: ApiKey,
  ): Promise<{ id: string; latest: TemplateVersion; published: TemplateVersion | null }[]> {
    const manages = can(caller.role, 'templates.manage');
    return (await this.store.templates.list()).flatMap((t) => {
      const published = typedOrNull(t.published);
      if (manages) return [{ id: t.id, latest: typed(t.latest), published }];
      return published ? [{ id: t.id, latest: published, published }] : [];
    });
  }

  /** The name a version had, for the audit trail and job lists; its id if it is not stored. */
  async nameOf(templateId: string, version: number): Promise<string> {
    return (await this.store.templates.get(templateId, version))?.name ?? templateId;
  }

  /** Every version of a template, oldest first, with how many pieces were made from each. */
  async versions(caller: ApiKey, templateId: string): Promise<(TemplateVersion & { renders: number })[]> {
    authorize(caller, 'templates.manage');
    const usage = await this.store.renders.usage(templateId);
    return (await this.store.templates.versions(templateId)).map((v) => ({
      ...typed(v),
      renders: usage.get(v.version) ?? 0,
    }));
  }

  /** One version, with how many pieces were made from it; NotFoundError if there is none. */
  async version(
    caller: ApiKey,
    templateId: string,
    version: number,
  ): Promise<TemplateVersion & { renders: number }> {
    const found = (await this.versions(caller, templateId)).find((v) => v.version === version);
    if (!found) throw new NotFoundError('not_found', `No version ${version} of template ${templateId}.`);
    return found;
  }

  /**
   * Stores an uploaded package (the path of a zip) as the next draft version of its template. A
   * package with any problem is refused whole (PlatenError, every problem listed) and nothing is kept.
   */
  async upload(caller: ApiKey, zip: string): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const staged = join(this.stagingDir, randomBytes(8).toString('hex'));
    try {
      await unzipPackage(zip, staged);
      return await this.addDraft(caller, staged);
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }

  /**
   * Validates a package staged as a folder: its compiled template, or PlatenError with every problem
   * in words (see designProblems), as every face shows them.
   */
  async validate(staged: string): Promise<CompiledTemplate> {
    const { compiled, problems } = await validateTemplate(staged);
    if (compiled && problems.length === 0) return compiled;
    throw new PlatenError('invalid_template', designProblems(await manifestJson(staged), problems));
  }

  /** Stores a package staged as a folder, already validated, as the next draft version of its template. */
  async addDraft(caller: ApiKey, staged: string): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const compiled = await this.validate(staged);
    return this.add({
      stagedDir: staged,
      manifest: compiled.manifest,
      createdBy: caller.name,
      state: 'draft',
    });
  }

  /** Publishes a version once its package compiles and every sample renders. */
  async publish(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const found = typedOrNull(await this.store.templates.get(templateId, version));
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    if (found.state === 'published')
      throw new ConflictError('already_published', `version ${version} is already published`);
    const { requireApproval } = await this.settings.current();
    if (requireApproval && found.state === 'draft' && !found.approvedBy) {
      throw new ConflictError(
        'not_approved',
        `version ${version} is not approved yet: a second marketing user, not its creator, must approve it before it is published`,
      );
    }
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
          designProblems(
            compiled.manifest,
            error.problems.map((p) => ({ ...p, path: `samples[${i}].record.${p.path}` })),
          ),
        );
      }
    }
    const published = await this.store.templates.setState(templateId, version, 'published', caller.name);
    // Another publish of this version won the race while the samples rendered.
    if (!published) throw new ConflictError('already_published', `version ${version} is already published`);
    return typed(published);
  }

  /**
   * Approves a draft for publishing, where approval is required: by anyone who manages templates
   * other than the version's creator, once.
   */
  async approve(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    if (!(await this.settings.current()).requireApproval) {
      throw new ConflictError(
        'approval_off',
        'this organisation does not require approval (an admin sets it in the organisation’s settings): publish the version directly',
      );
    }
    const found = await this.store.templates.get(templateId, version);
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    if (found.createdBy === caller.name) {
      throw new ForbiddenError(
        `you created version ${version}: a second marketing user must approve it, not its creator`,
      );
    }
    if (found.state !== 'draft')
      throw new ConflictError('not_draft', `version ${version} is ${found.state}: only drafts are approved`);
    const approved = await this.store.templates.approve(templateId, version, caller.name);
    if (!approved) {
      throw new ConflictError('already_approved', `version ${version} is already approved`);
    }
    return typed(approved);
  }

  async retire(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const found = await this.store.templates.get(templateId, version);
    if (!found) throw new NotFoundError('not_found', `no version ${version} of template ${templateId}`);
    if (found.state === 'retired')
      throw new ConflictError('already_retired', `version ${version} is already retired`);
    const retired = await this.store.templates.setState(templateId, version, 'retired', caller.name);
    if (!retired) throw new ConflictError('already_retired', `version ${version} is already retired`);
    return typed(retired);
  }

  /** Stores a validated package, staged in `stagedDir`, as the next version of its template. */
  private async add(input: {
    stagedDir: string;
    manifest: Manifest;
    createdBy: string;
    state: 'draft' | 'published';
  }): Promise<TemplateVersion> {
    const { manifest } = input;
    return typed(
      await this.store.templates.addVersion({
        ...input,
        templateId: manifest.id,
        name: manifest.name,
        report: [],
      }),
    );
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
      if ((await this.store.templates.versions(compiled.id)).length > 0) continue;
      const staged = join(this.stagingDir, randomBytes(8).toString('hex'));
      await cp(source, staged, { recursive: true });
      await this.add({
        stagedDir: staged,
        manifest: compiled.manifest,
        createdBy: 'bundled',
        state: 'published',
      });
      loaded.push(compiled.id);
    }
    return loaded;
  }
}
