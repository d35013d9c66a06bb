import type { Services } from '../../src/api/services.js';
import { webRouter } from '../../src/web/router.js';

/**
 * The pages without a browser: a session signed in through the sign-in form over fetch, its cookies
 * carried by hand and its CSRF token read from the page, for tests that send what no browser would.
 */

export interface PageReply {
  status: number;
  headers: Headers;
  text: string;
}

export interface PageSession {
  /** The session's CSRF token (as forms carry it in `_csrf`, scripts in `X-CSRF-Token`). */
  csrf: string;
  /** A request with the session's cookie; redirects are not followed. */
  send(
    method: string,
    path: string,
    init?: { body?: RequestInit['body']; headers?: Record<string, string> },
  ): Promise<PageReply>;
}

/** `name=value` of each cookie a response sets. */
function cookiesOf(res: Response): string[] {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

const csrfIn = (html: string): string => {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
};

/** Signs in with an API key through the sign-in form, as a browser would, and reads the session's CSRF token. */
export async function signInPages(base: string, key: string): Promise<PageSession> {
  const form = await fetch(`${base}/sign-in`);
  const visitor = cookiesOf(form).join('; ');
  const signIn = await fetch(`${base}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: visitor, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key, _csrf: csrfIn(await form.text()) }).toString(),
  });
  const session = cookiesOf(signIn).find((c) => c.startsWith('platen_session='));
  if (signIn.status !== 303 || !session) throw new Error(`signing in: ${signIn.status}`);
  const home = await fetch(new URL(signIn.headers.get('location')!, base), { headers: { cookie: session } });
  const csrf = csrfIn(await home.text());
  return {
    csrf,
    async send(method, path, init = {}) {
      const res = await fetch(`${base}${path}`, {
        method,
        redirect: 'manual',
        headers: { ...init.headers, cookie: session },
        body: init.body ?? null,
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
  };
}

/** Every route of the pages, from their router: its path (express syntax) and methods. */
export function pageRoutes(services: Services): { path: string; methods: string[] }[] {
  return webRouter(services).stack.flatMap((layer) => {
    const route = layer.route as unknown as { path: string; methods: Record<string, boolean> } | undefined;
    return route
      ? [{ path: route.path, methods: Object.keys(route.methods).filter((m) => route.methods[m]) }]
      : [];
  });
}
