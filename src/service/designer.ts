import { createHash, randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { crc32 } from 'node:zlib';
import { stillWanted } from '../abort.js';
import { loadFontFace } from '../assets/fonts.js';
import { prepareImage } from '../assets/images.js';
import { checkSvg, SVG_LIMITS } from '../assets/svg.js';
import { KINDS } from '../elements/registry.js';
import type { PieceRunner } from '../jobs/dispatch.js';
import { ZipWriter } from '../jobs/zip-writer.js';
import type { EditorProperty } from '../elements/kind.js';
import { PlatenError, type Problem } from '../errors.js';
import type { ElementInput } from '../model/kinds.js';
import { PAGE_PRESETS } from '../model/manifest.js';
import { PATTERN_PRESETS } from '../model/patterns.js';
import type { ApiKey, Store } from '../store/store.js';
import { type DesignProblem, designProblems } from '../template/design-problems.js';
import { describeChanges, type Change } from './changes.js';
import { authorize, ownerOf } from './policy.js';
import type { TemplateService, TemplateVersion } from './templates.js';
import { pathProblem } from './unzip.js';

export type { DesignProblem } from '../template/design-problems.js';
export type { Change } from './changes.js';

/** A draft as the designer (or a script) sends it. */
export interface DraftInput {
  /** template.json, parsed. */
  manifest: unknown;
  /** Take every file not given from this version of the template. */
  from?: number;
  /** Files by package path. */
  files?: Record<string, Buffer>;
  /** Files by package path, as the sha256 of an asset the caller stored (storeAsset). */
  assets?: Record<string, string>;
}

/** A package file the caller uploaded for a draft, checked and kept for a day. */
export interface DraftAsset {
  path: string;
  sha256: string;
  kind: 'image' | 'font' | 'svg';
  width?: number;
  height?: number;
}

/** What the designer builds its panels from: the element kinds, page sizes and pattern presets. */
export interface DesignerKinds {
  kinds: {
    type: string;
    label: string;
    summary: string;
    properties: EditorProperty[];
    defaults: Record<string, unknown>;
  }[];
  pagePresets: { id: string; label: string; width: number; height: number }[];
  patternPresets: { id: string; label: string; description: string }[];
}

/** A minimal valid element of each kind, less its name and box: what "add" starts from. */
const DEFAULTS: {
  [T in keyof typeof KINDS]: Omit<Extract<ElementInput, { type: T }>, 'name' | 'x' | 'y' | 'w' | 'h'>;
} = {
  text: { type: 'text', text: 'New text', size: 12 },
  image: { type: 'image', src: 'images/picture.jpg', fit: 'cover' },
  rect: { type: 'rect', fill: '#CCCCCC' },
  ellipse: { type: 'ellipse', fill: '#CCCCCC' },
  line: { type: 'line', stroke: '#000000', strokeWidth: 1 },
  svg: { type: 'svg', src: 'art/art.svg' },
  qr: { type: 'qr', content: '{{piece.url}}' },
  address: {
    type: 'address',
    size: 10,
    lines: {
      name: '{{prospect.firstName}} {{prospect.lastName}}',
      line1: '{{prospect.address}}',
      city: '{{prospect.city}}',
      state: '{{prospect.state}}',
      zip: '{{prospect.zip}}',
    },
  },
  imb: {
    type: 'imb',
    barcodeId: '00',
    serviceType: '300',
    mailerId: '123456',
    serial: '{{prospect.imbSerial}}',
  },
};

const PAGE_LABELS: Record<keyof typeof PAGE_PRESETS, string> = {
  letter: 'Letter (8.5 × 11 in)',
  a4: 'A4 (210 × 297 mm)',
  'postcard-6x4': 'Postcard (6 × 4 in)',
  'postcard-6x9': 'Postcard (9 × 6 in)',
  'postcard-6x11': 'Postcard (11 × 6 in)',
  'envelope-10': '#10 envelope (9.5 × 4.125 in)',
};

/** Files a draft may carry, by extension: art, fonts, their licences, sample data. */
const DRAFT_FILE = /\.(png|jpe?g|svg|ttf|otf|txt|md|json|csv)$/i;
/** Assets the caller uploads for a draft, by kind. */
const ASSET_KIND: [RegExp, DraftAsset['kind']][] = [
  [/\.(png|jpe?g)$/i, 'image'],
  [/\.(ttf|otf)$/i, 'font'],
  [/\.svg$/i, 'svg'],
];
/** How long an uploaded asset may be named by a draft: a working day and more. */
const ASSET_HOURS = 24;
/** SVG art is checked against the pixels the largest page could print it at: 18 inches square. */
const LARGEST_BOX = { w: 18 * 72, h: 18 * 72 };
/** Preview PNGs kept, in bytes: a few hundred pages at screen sizes. */
const PNG_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * A copy of a package folder made of hard links: staging a draft costs no copying of its fonts and
 * images (stored packages are never changed in place, and every file a draft gives replaces its
 * link). Copies where links cannot be made (another file system).
 */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await linkTree(source, target);
    else if (entry.isFile()) {
      await link(source, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV' && error.code !== 'EPERM') throw error;
        return copyFile(source, target);
      });
    }
  }
}

const manifestObject = (draft: DraftInput): boolean =>
  typeof draft.manifest === 'object' && draft.manifest !== null && !Array.isArray(draft.manifest);

/** A draft staged as a package folder, and what is wrong with its id (reported with the rest). */
interface Staged {
  dir: string;
  problems: Problem[];
}

/**
 * The template designer's server side. A draft is a manifest with the files it changes; it is staged
 * as a package (every other file from the version it starts from), validated as an upload is, and
 * stored as the next immutable draft version. Previews compile the staged draft once per content and
 * draw one page as Platen prints it, cached by content, so dragging an element costs one render.
 */
export class DesignerService {
  private readonly pngs = new Map<string, Buffer>();
  private pngBytes = 0;

  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
    /** Where previews are drawn: the process's worker pool. */
    private readonly runner: PieceRunner,
    private readonly stagingDir: string,
  ) {}

  /** Every problem of a draft, in words; none when it may be saved. Nothing is stored. */
  async check(caller: ApiKey, templateId: string, draft: DraftInput): Promise<DesignProblem[]> {
    authorize(caller, 'templates.manage');
    try {
      const staged = await this.stage(caller, templateId, draft);
      try {
        return [...staged.problems, ...(await this.problemsOf(staged.dir))];
      } finally {
        await rm(staged.dir, { recursive: true, force: true });
      }
    } catch (error) {
      if (error instanceof PlatenError) return error.problems;
      throw error;
    }
  }

  private async problemsOf(dir: string): Promise<DesignProblem[]> {
    try {
      await this.templates.validate(dir);
      return [];
    } catch (error) {
      if (error instanceof PlatenError) return error.problems;
      throw error;
    }
  }

  /** Stores a draft as the next version, or throws every problem (PlatenError) and stores nothing. */
  async saveDraft(caller: ApiKey, templateId: string, draft: DraftInput): Promise<TemplateVersion> {
    authorize(caller, 'templates.manage');
    const staged = await this.stage(caller, templateId, draft);
    try {
      if (staged.problems.length > 0) {
        throw new PlatenError('invalid_template', [
          ...staged.problems,
          ...(await this.problemsOf(staged.dir)),
        ]);
      }
      return await this.templates.addDraft(caller, staged.dir);
    } finally {
      await rm(staged.dir, { recursive: true, force: true });
    }
  }

  /**
   * One page of a draft as Platen draws it, with sample record `sample`, cropped to the bleed box, as
   * PNG at `scale` (1 = 72 dpi). Cached by content: the same draft, page, scale and sample is drawn once.
   */
  async preview(
    caller: ApiKey,
    templateId: string,
    draft: DraftInput & { page: number; scale: number; sample: number },
    signal: AbortSignal,
  ): Promise<{ png: Buffer; cached: boolean }> {
    authorize(caller, 'templates.manage');
    const draftKey = await this.draftKey(caller, templateId, draft);
    const key = `${draftKey}:${draft.page}:${draft.scale}:${draft.sample}`;
    const hit = this.pngs.get(key);
    if (hit) {
      this.pngs.delete(key);
      this.pngs.set(key, hit);
      return { png: hit, cached: true };
    }
    const staged = await this.stage(caller, templateId, draft);
    let drawn;
    try {
      if (staged.problems.length > 0) throw new PlatenError('invalid_template', staged.problems);
      await stillWanted(signal);
      // The worker compiles the staged folder once per content (the draft's key) and keeps it, so
      // dragging an element costs one compile and one render, off the event loop.
      drawn = await this.runner
        .piece(
          {
            kind: 'preview',
            template: { dir: staged.dir, draft: draftKey },
            source: { sample: draft.sample },
            view: { page: draft.page, scale: draft.scale, crop: 'bleed' },
          },
          signal,
        )
        .catch((error: unknown) => {
          // A page or sample the draft does not have is the request's problem; the rest, the draft's.
          if (!(error instanceof PlatenError) || error.code === 'invalid_request') throw error;
          throw new PlatenError(error.code, designProblems(draft.manifest, error.problems));
        });
    } finally {
      await rm(staged.dir, { recursive: true, force: true });
    }
    if (drawn.kind !== 'preview') throw new Error('a preview answered as a render');
    const png = Buffer.from(drawn.png.buffer, drawn.png.byteOffset, drawn.png.byteLength);
    this.remember(key, png);
    return { png, cached: false };
  }

  /**
   * Checks a file for a draft as a package upload's files are checked (images decoded, fonts parsed,
   * SVG art within its limits) and keeps it as the caller's for a day: drafts name it by its sha256.
   */
  async storeAsset(caller: ApiKey, templateId: string, path: string, bytes: Buffer): Promise<DraftAsset> {
    authorize(caller, 'templates.manage');
    const refuse = (rule: string, message: string): never => {
      throw new PlatenError('invalid_asset', designProblems({ id: templateId }, [{ path, rule, message }]));
    };
    const named = pathProblem(path);
    if (named) refuse(named.rule, named.message);
    const kind = ASSET_KIND.find(([pattern]) => pattern.test(path))?.[1];
    if (!kind) refuse('file_type', 'upload a PNG or JPEG image, a TTF or OTF font, or SVG art');
    const size: { width?: number; height?: number } = {};
    if (kind === 'image') {
      const image = await prepareImage(bytes, { verify: true }).catch((error: Error) =>
        refuse('bad_image', `not an image that can be printed: ${error.message}`),
      );
      size.width = image.width;
      size.height = image.height;
    } else if (kind === 'font') {
      const problem = await this.fontProblem(bytes);
      if (problem) refuse('bad_font', `not a font that can be used: ${problem}`);
    } else {
      if (bytes.length > SVG_LIMITS.maxBytes) {
        refuse('svg_too_big', `larger than ${SVG_LIMITS.maxBytes / (1024 * 1024)} MB: simplify the art`);
      }
      const problems = await checkSvg(bytes.toString('utf8'), LARGEST_BOX, { verify: true });
      if (problems.length > 0) refuse(problems[0]!.rule, problems.map((p) => p.message).join('; '));
    }
    const sha256 = await this.store.blobs.put(bytes);
    await this.store.uploads.add(sha256, ownerOf(caller), Date.now() + ASSET_HOURS * 3_600_000);
    return { path, sha256, kind: kind!, ...size };
  }

  /** A stored version's package as a zip: what an upload or an import takes back. */
  async packageZip(caller: ApiKey, templateId: string, version: number): Promise<Buffer> {
    authorize(caller, 'templates.manage');
    const dir = await this.templates.packageDir(await this.templates.stored(templateId, version));
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
      .sort();
    const chunks: Buffer[] = [];
    const out = new PassThrough().on('data', (chunk: Buffer) => chunks.push(chunk));
    // Stored, not deflated: a package is mostly fonts and images, compressed already.
    const zip = new ZipWriter(out);
    for (const name of files) {
      const bytes = await readFile(join(dir, name));
      await zip.add(name, bytes, crc32(bytes));
    }
    await zip.end();
    out.end();
    return Buffer.concat(chunks);
  }

  /** What changed in a version against the one before it, in words. */
  async changes(caller: ApiKey, templateId: string, version: number): Promise<Change[]> {
    authorize(caller, 'templates.manage');
    const current = await this.templates.stored(templateId, version);
    // Version numbers have no gaps: every version but the first has one before it.
    const before = version > 1 ? await this.templates.stored(templateId, version - 1) : null;
    return describeChanges(before?.manifest ?? null, current.manifest);
  }

  /** Approves a draft for publishing, where the settings require it: see TemplateService.approve. */
  approve(caller: ApiKey, templateId: string, version: number): Promise<TemplateVersion> {
    return this.templates.approve(caller, templateId, version);
  }

  kinds(): DesignerKinds {
    return {
      kinds: Object.values(KINDS).map((kind) => ({
        type: kind.type,
        label: kind.editor.label,
        summary: kind.editor.summary,
        properties: kind.editor.properties,
        defaults: { ...DEFAULTS[kind.type] },
      })),
      pagePresets: Object.entries(PAGE_PRESETS).map(([id, [width, height]]) => ({
        id,
        label: PAGE_LABELS[id as keyof typeof PAGE_PRESETS],
        width,
        height,
      })),
      patternPresets: PATTERN_PRESETS.map(({ id, label, description }) => ({ id, label, description })),
    };
  }

  // ---------------------------------------------------------------------------------------- drafts

  /**
   * Stages a draft as a package folder: the version it starts from, then the files and assets it
   * gives, then its manifest as template.json. Every problem with what it names is thrown at once.
   */
  private async stage(caller: ApiKey, templateId: string, draft: DraftInput): Promise<Staged> {
    const problems = this.pathProblems(draft);
    const from = draft.from === undefined ? null : await this.templates.stored(templateId, draft.from);
    const assets = await this.ownedAssets(caller, draft, problems);
    const idProblems = designProblems(draft.manifest, this.idProblems(templateId, draft));
    if (problems.length > 0 || (idProblems.length > 0 && !manifestObject(draft))) {
      throw new PlatenError('invalid_template', [...idProblems, ...designProblems(draft.manifest, problems)]);
    }
    const dir = join(this.stagingDir, `draft-${randomBytes(8).toString('hex')}`);
    try {
      if (from) await linkTree(await this.templates.packageDir(from), dir);
      else await mkdir(dir);
      const write = async (path: string, bytes: Buffer) => {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        // The path may be a link to a stored version's file: replaced, never written through.
        await rm(join(dir, path), { recursive: true, force: true });
        await writeFile(join(dir, path), bytes, { flag: 'wx' });
      };
      for (const [path, bytes] of Object.entries(draft.files ?? {})) await write(path, bytes);
      for (const [path, bytes] of assets) await write(path, bytes);
      await write('template.json', Buffer.from(JSON.stringify(draft.manifest, null, 2)));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return { dir, problems: idProblems };
  }

  /** A draft's manifest must be an object whose id is the template's. */
  private idProblems(templateId: string, draft: DraftInput): Problem[] {
    if (!manifestObject(draft)) {
      return [{ path: 'template.json', rule: 'json', message: 'the manifest must be a JSON object' }];
    }
    const id = (draft.manifest as { id?: unknown }).id;
    if (id === templateId) return [];
    return [
      {
        path: 'id',
        rule: 'id_mismatch',
        message: `it is ${JSON.stringify(id ?? null)}, but this draft is of template "${templateId}": they must be the same`,
      },
    ];
  }

  /** What is wrong with the paths of a draft's files and assets, before anything is staged. */
  private pathProblems(draft: DraftInput): Problem[] {
    const problems: Problem[] = [];
    for (const path of [...Object.keys(draft.files ?? {}), ...Object.keys(draft.assets ?? {})]) {
      const problem =
        pathProblem(path) ??
        (path === 'template.json'
          ? { rule: 'path', message: 'the manifest is sent as its own part, not as a file' }
          : DRAFT_FILE.test(path)
            ? null
            : {
                rule: 'file_type',
                message:
                  'not a file a package may hold: images (PNG, JPEG), SVG art, fonts (TTF, OTF), text, JSON or CSV',
              });
      if (problem) problems.push({ path, ...problem });
    }
    return problems;
  }

  /** The bytes of the stored assets a draft names, each the caller's own and unexpired. */
  private async ownedAssets(
    caller: ApiKey,
    draft: DraftInput,
    problems: Problem[],
  ): Promise<[string, Buffer][]> {
    const owner = ownerOf(caller);
    const found: [string, Buffer][] = [];
    for (const [path, sha256] of Object.entries(draft.assets ?? {})) {
      const bytes =
        /^[0-9a-f]{64}$/.test(sha256) && (await this.store.uploads.owns(sha256, owner))
          ? await this.store.blobs.get(sha256)
          : null;
      if (bytes) found.push([path, bytes]);
      else
        problems.push({
          path,
          rule: 'not_an_upload',
          message: `upload this file again: it is not one you uploaded here within the last ${ASSET_HOURS} hours`,
        });
    }
    return found;
  }

  /** A draft's content hash: its manifest, the files and assets it gives, the version it starts from. */
  private async draftKey(caller: ApiKey, templateId: string, draft: DraftInput): Promise<string> {
    const hash = createHash('sha256').update(`${templateId}\0${draft.from ?? ''}\0`);
    hash.update(JSON.stringify(draft.manifest ?? null));
    const files = Object.entries(draft.files ?? {}).map(
      ([path, bytes]) => [path, createHash('sha256').update(bytes).digest('hex')] as const,
    );
    // An asset is known by its hash; whose it is matters, as only its owner may use it.
    const assets = Object.entries(draft.assets ?? {}).map(
      ([path, sha]) => [path, `${ownerOf(caller)}:${sha}`] as const,
    );
    for (const [path, sha] of [...files, ...assets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      hash.update(`\0${path}\0${sha}`);
    return hash.digest('hex');
  }

  private remember(key: string, png: Buffer): void {
    this.pngs.set(key, png);
    this.pngBytes += png.length;
    for (const [old, bytes] of this.pngs) {
      if (this.pngBytes <= PNG_CACHE_BYTES) break;
      this.pngs.delete(old);
      this.pngBytes -= bytes.length;
    }
  }

  /**
   * Why font bytes cannot be used, or null. A font is parsed from a file (fontkit reads paths): one in
   * staging, removed at once. A failure to write or read it is ours, not the font's, and is thrown.
   */
  private async fontProblem(bytes: Buffer): Promise<string | null> {
    const file = join(this.stagingDir, `font-${randomBytes(8).toString('hex')}`);
    await writeFile(file, bytes);
    try {
      await loadFontFace(file, { verify: true });
      return null;
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).syscall === 'string') throw error;
      return (error as Error).message;
    } finally {
      await rm(file, { force: true });
    }
  }
}
