/**
 * The pages over plain HTTP: signing in with a key as the sign-in form does (visitor cookie, its
 * CSRF token, the form post), then requests with the session cookie and the session's CSRF token.
 * Redirects are not followed, so a test sees the 303 to the sign-in page itself.
 */
import { expect } from 'vitest';
import type { Services } from '../../src/api/services.js';
import { webRouter } from '../../src/web/router.js';

export interface PageReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON when the response says it is JSON, else undefined. */
  json: unknown;
  /** Where a redirect points, as a path. */
  location: string | null;
}

export interface PageRequest {
  /** The `Cookie` header to send (a session's, or a stale or forged one). */
  cookie?: string;
  /** Sent as `X-CSRF-Token`; a session sends its own unless this is `''`. */
  csrf?: string;
  headers?: Record<string, string>;
  /** A urlencoded form. */
  form?: Record<string, string>;
  json?: unknown;
  body?: RequestInit['body'];
}

export async function pageRequest(
  base: string,
  method: string,
  path: string,
  options: PageRequest = {},
): Promise<PageReply> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  Object.assign(headers, options.headers);
  let body: RequestInit['body'];
  if (options.form) body = new URLSearchParams(options.form);
  else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else body = options.body;
  const res = await fetch(`${base}${path}`, {
    method: method.toUpperCase(),
    headers,
    body,
    redirect: 'manual',
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const location = res.headers.get('location');
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: /json/.test(type) && text !== '' ? JSON.parse(text) : undefined,
    location: location === null ? null : new URL(location, base).pathname,
  };
}

/** A signed-in browser, without the browser: its cookie and the CSRF token its pages carry. */
export interface PageSession {
  cookie: string;
  csrf: string;
  request(method: string, path: string, options?: Omit<PageRequest, 'cookie'>): Promise<PageReply>;
}

/** The value of a cookie the response sets, as a `Cookie` header pair. */
export function setCookie(reply: PageReply, name: string): string {
  const found = reply.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie set (${reply.status})`);
  return found.split(';')[0]!;
}

/** The `_csrf` value of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('the page carries no CSRF token');
  return match[1]!;
}

/** Signs in with `key` through the sign-in form and reads the CSRF token of the page it lands on. */
export async function signInPages(base: string, key: string): Promise<PageSession> {
  const form = await pageRequest(base, 'get', '/sign-in');
  const visitor = setCookie(form, 'platen_visitor');
  const signedIn = await pageRequest(base, 'post', '/sign-in', {
    cookie: visitor,
    form: { key, _csrf: csrfOf(form.text) },
  });
  expect(signedIn.status, signedIn.text).toBe(303);
  const cookie = setCookie(signedIn, 'platen_session');
  const home = await pageRequest(base, 'get', signedIn.location!, { cookie });
  expect(home.status, home.text).toBe(200);
  const csrf = csrfOf(home.text);
  return {
    cookie,
    csrf,
    request: (method, path, options = {}) => pageRequest(base, method, path, { csrf, ...options, cookie }),
  };
}

/** Every route of the pages, from their router: its path (express syntax) and methods. */
export async function pageRoutes(services: Services): Promise<{ path: string; methods: string[] }[]> {
  return (await webRouter(services, (_req, _res, next) => next())).stack.flatMap((layer) => {
    const route = layer.route as unknown as { path: string; methods: Record<string, boolean> } | undefined;
    return route
      ? [{ path: route.path, methods: Object.keys(route.methods).filter((m) => route.methods[m]) }]
      : [];
  });
}
