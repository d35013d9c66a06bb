/** The designer page's JSON routes, with the session's CSRF token as the other pages' scripts send it. */
import type { Manifest } from './state.js';

export interface DesignProblem {
  path: string;
  rule: string;
  message: string;
  element?: string;
  page?: string;
  input?: string;
}
interface Change {
  what: string;
  name: string;
  change: string;
  detail: string;
}
export interface DraftBody {
  manifest: Manifest;
  from: number;
  assets: Record<string, string>;
}

export class Api {
  constructor(
    private readonly templateId: string,
    private readonly csrf: string,
  ) {}

  private url(path: string): string {
    return `/designer/${encodeURIComponent(this.templateId)}${path}`;
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(this.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  }

  async check(draft: DraftBody, signal: AbortSignal): Promise<DesignProblem[]> {
    const res = await this.post('/check', draft, signal);
    const body = (await res.json()) as { problems?: DesignProblem[]; message?: string };
    if (!res.ok && !body.problems?.length) throw new Error(body.message ?? `check failed (${res.status})`);
    return body.problems ?? [];
  }

  /** The page as Platen renders it, or the problems that keep it from rendering. */
  async preview(
    draft: DraftBody & { page: number; scale: number; sample: number },
    signal: AbortSignal,
  ): Promise<Blob | DesignProblem[]> {
    const res = await this.post('/preview', draft, signal);
    if (res.ok) return res.blob();
    const body = (await res.json()) as { problems?: DesignProblem[]; message?: string };
    return body.problems?.length
      ? body.problems
      : [{ path: '', rule: 'preview', message: body.message ?? 'no preview' }];
  }

  async save(
    draft: DraftBody,
  ): Promise<{ version: number } | { problems: DesignProblem[]; message?: string }> {
    const res = await this.post('/save', draft);
    const body = (await res.json()) as { version?: number; problems?: DesignProblem[]; message?: string };
    if (res.status === 201 && body.version) return { version: body.version };
    return { problems: body.problems ?? [], message: body.message ?? `not saved (${res.status})` };
  }

  async storeAsset(path: string, file: File): Promise<{ path: string; sha256: string; kind: string }> {
    const data = new FormData();
    data.set('path', path);
    data.set('file', file);
    const res = await fetch(this.url('/assets'), {
      method: 'POST',
      headers: { 'x-csrf-token': this.csrf },
      body: data,
    });
    const body = (await res.json()) as {
      path: string;
      sha256: string;
      kind: string;
      message?: string;
      problems?: DesignProblem[];
    };
    if (!res.ok)
      throw new Error(body.problems?.map((p) => p.message).join('; ') || body.message || 'upload failed');
    return body;
  }

  async changes(version: number): Promise<Change[]> {
    const res = await fetch(this.url(`/${version}/changes`));
    return ((await res.json()) as { changes?: Change[] }).changes ?? [];
  }

  /** Publishes, retires or approves a version; the answer's message in words when refused. */
  async act(
    version: number,
    action: 'publish' | 'retire' | 'approve',
  ): Promise<{ ok: boolean; message: string }> {
    const res = await fetch(this.url(`/${version}/${action}`), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': this.csrf },
      body: '',
    });
    const body = (await res.json()) as { state?: string; message?: string; problems?: DesignProblem[] };
    if (res.ok) return { ok: true, message: `Version ${version} is now ${body.state}.` };
    const why = body.problems?.map((p) => p.message).join('; ');
    return { ok: false, message: `${body.message ?? 'Refused.'}${why ? ` ${why}` : ''}` };
  }
}
