// STAND-IN: the designer pages' (D2) minimal DesignerService, written to DESIGNER.md's interface so
// the pages run before D1's service is merged. The coordinator replaces this file with D1's.
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotFoundError, PlatenError, type Problem } from '../errors.js';
import type { EditorProperty } from '../elements/kind.js';
import { KINDS } from '../elements/registry.js';
import { fitPiece } from '../layout/piece.js';
import { mergeRecord } from '../merge/merge.js';
import { PAGE_PRESETS } from '../model/manifest.js';
import { renderToBuffer, samples, screenImages } from '../pipeline.js';
import { rasterizePage } from '../render/raster.js';
import type { ApiKey, Store } from '../store/store.js';
import { compileTemplate } from '../template/compile.js';
import { validateTemplate } from '../validate.js';
import { authorize } from './policy.js';
import type { TemplateService, TemplateVersion } from './templates.js';

export interface DraftInput {
  manifest: unknown;
  from?: number;
  files?: Record<string, Buffer>;
  assets?: Record<string, string>;
}
export type DesignProblem = Problem & { element?: string; page?: string; input?: string };
export interface DraftAsset {
  path: string;
  sha256: string;
  kind: 'image' | 'font' | 'svg';
  width?: number;
  height?: number;
}
export interface Change {
  what: 'element' | 'input' | 'page' | 'palette' | 'font' | 'sample' | 'setting';
  name: string;
  change: 'added' | 'removed' | 'moved' | 'resized' | 'restyled' | 'changed';
  detail: string;
}
export interface DesignerKinds {
  kinds: {
    type: string;
    label: string;
    summary: string;
    properties: EditorProperty[];
    defaults: Record<string, unknown>;
  }[];
  pagePresets: { id: string; label: string; width: number; height: number }[];
  patternPresets: { id: string; label: string; description: string; pattern: string }[];
}

const DEFAULTS: Record<string, Record<string, unknown>> = {
  text: { text: 'Text', size: 12 },
  image: { src: '', fit: 'cover' },
  rect: { fill: '#DDDDDD' },
  ellipse: { fill: '#DDDDDD' },
  line: { stroke: '#000000' },
  svg: { src: '' },
  qr: { content: '{{piece.url}}' },
  address: {
    size: 10,
    lines: {
      name: '{{prospect.firstName}}',
      line1: '{{prospect.address1}}',
      city: '{{prospect.city}}',
      state: '{{prospect.state}}',
      zip: '{{prospect.zip}}',
    },
  },
  imb: { barcodeId: '00', serviceType: '300', mailerId: '123456', serial: '000000001' },
};

export class DesignerService {
  private readonly assetDir: string;

  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
    private readonly stagingDir: string,
  ) {
    this.assetDir = join(stagingDir, 'designer-assets');
  }

  kinds(): DesignerKinds {
    return {
      kinds: Object.values(KINDS).map((k) => ({
        type: k.type,
        label: k.editor.label,
        summary: k.editor.summary,
        properties: k.editor.properties,
        defaults: DEFAULTS[k.type] ?? {},
      })),
      pagePresets: Object.entries(PAGE_PRESETS).map(([id, [width, height]]) => ({
        id,
        label: id,
        width,
        height,
      })),
      patternPresets: [
        {
          id: 'us-zip',
          label: 'US ZIP code',
          description: '5 digits, or ZIP+4',
          pattern: '^\\d{5}(-\\d{4})?$',
        },
        {
          id: 'us-phone',
          label: 'US phone',
          description: '10 digits',
          pattern: '^\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]?\\d{4}$',
        },
        {
          id: 'licence',
          label: 'Licence number',
          description: 'letters and digits, 5 to 15',
          pattern: '^[A-Za-z0-9-]{5,15}$',
        },
      ],
    };
  }

  async check(caller: ApiKey, templateId: string, draft: DraftInput): Promise<DesignProblem[]> {
    authorize(caller, 'templates.manage');
    return this.staged(templateId, draft, async (dir, manifest) =>
      named(manifest, (await validateTemplate(dir)).problems),
    );
  }

  async saveDraft(caller: ApiKey, templateId: string, draft: DraftInput): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const staged = join(this.stagingDir, randomBytes(8).toString('hex'));
    try {
      const manifest = await this.stage(staged, templateId, draft);
      const { compiled, problems } = await validateTemplate(staged);
      if (!compiled || problems.length > 0)
        throw new PlatenError('invalid_template', named(manifest, problems));
      const m = compiled.manifest;
      return (await this.store.templates.addVersion({
        stagedDir: staged,
        manifest: m,
        createdBy: caller.name,
        state: 'draft',
        templateId,
        name: m.name,
        report: [],
      })) as TemplateVersion;
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }

  async preview(
    caller: ApiKey,
    templateId: string,
    draft: DraftInput & { page: number; scale: number; sample: number },
    signal: AbortSignal,
  ): Promise<{ png: Buffer; cached: boolean }> {
    authorize(caller, 'templates.manage');
    return this.staged(templateId, draft, async (dir, manifest) => {
      let compiled;
      try {
        compiled = await compileTemplate(dir);
      } catch (error) {
        if (error instanceof PlatenError) throw new PlatenError(error.code, named(manifest, error.problems));
        throw error;
      }
      const sample = samples(compiled)[draft.sample];
      const piece = mergeRecord(compiled, sample?.record ?? {}, sample?.images ?? compiled.assets);
      const { fitted } = fitPiece(piece);
      const pdf = await renderToBuffer(compiled, [fitted], {
        imageVariants: await screenImages(fitted),
        signal,
      });
      return { png: await rasterizePage(pdf, draft.page, draft.scale, signal), cached: false };
    });
  }

  async storeAsset(caller: ApiKey, _templateId: string, path: string, bytes: Buffer): Promise<DraftAsset> {
    authorize(caller, 'templates.manage');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await mkdir(this.assetDir, { recursive: true });
    await writeFile(join(this.assetDir, sha256), bytes);
    const kind = /\.svg$/i.test(path) ? 'svg' : /\.(ttf|otf)$/i.test(path) ? 'font' : 'image';
    return { path, sha256, kind };
  }

  async packageZip(caller: ApiKey, templateId: string, version: number): Promise<Buffer> {
    authorize(caller, 'templates.manage');
    throw new NotFoundError('not_found', `export of ${templateId} version ${version} comes with the service`);
  }

  async changes(caller: ApiKey, _templateId: string, _version: number): Promise<Change[]> {
    authorize(caller, 'templates.manage');
    return [];
  }

  async approve(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    return this.templates.stored(templateId, version);
  }

  private async staged<T>(
    templateId: string,
    draft: DraftInput,
    use: (dir: string, manifest: unknown) => Promise<T>,
  ): Promise<T> {
    const dir = join(this.stagingDir, randomBytes(8).toString('hex'));
    try {
      return await use(dir, await this.stage(dir, templateId, draft));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes the draft's package into `dir`: the `from` version's files, the uploads, the manifest. */
  private async stage(dir: string, templateId: string, draft: DraftInput): Promise<unknown> {
    await mkdir(dir, { recursive: true });
    if (draft.from !== undefined) {
      const from = await this.templates.stored(templateId, draft.from);
      await cp(await this.templates.packageDir(from), dir, { recursive: true });
    }
    for (const [path, sha] of Object.entries(draft.assets ?? {})) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), await readFile(join(this.assetDir, sha.replace(/[^0-9a-f]/g, ''))));
    }
    for (const [path, bytes] of Object.entries(draft.files ?? {})) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), bytes);
    }
    const manifest = { ...(draft.manifest as object), id: templateId };
    await writeFile(join(dir, 'template.json'), JSON.stringify(manifest));
    return manifest;
  }
}

/** Names each problem's element, page or input from its path. */
function named(manifest: unknown, problems: Problem[]): DesignProblem[] {
  const m = manifest as {
    pages?: { name?: string; elements?: { name?: string }[] }[];
    [group: string]: unknown;
  };
  return problems.map((p) => {
    const out: DesignProblem = { ...p };
    const el = /^pages\[(\d+)\](?:\.elements\[(\d+)\])?/.exec(p.path);
    if (el) {
      const page = m.pages?.[Number(el[1])];
      if (page?.name) out.page = page.name;
      const element = el[2] === undefined ? undefined : page?.elements?.[Number(el[2])];
      if (element?.name) out.element = element.name;
    }
    const byName = /(?:^|\.)elements\.([A-Za-z][A-Za-z0-9_]*)/.exec(p.path);
    if (byName) out.element = byName[1];
    const input = /^(prospect|rep|fields)\.([A-Za-z][A-Za-z0-9_]*)/.exec(p.path);
    if (input) {
      const def = (m[input[1]!] as Record<string, { label?: string }> | undefined)?.[input[2]!];
      out.input = def?.label ?? input[2];
    }
    return out;
  });
}
