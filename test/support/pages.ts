/**
 * The pages without a browser: signs in with an API key over fetch, keeps the session's cookies and
 * its CSRF token, and sends them with every request, as the pages' forms and scripts do.
 */

const CSRF = /name="_csrf" value="([^"]+)"/;

export class PageSession {
  private readonly cookies = new Map<string, string>();
  /** The session's CSRF token: a form's `_csrf` field, a script's `X-CSRF-Token` header. */
  csrf = '';

  private constructor(readonly base: string) {}

  /** Signs in with `key` and lands on the role's home page, reading the session's CSRF token there. */
  static async signIn(base: string, key: string): Promise<PageSession> {
    const session = new PageSession(base);
    session.csrf = await session.tokenOf('/sign-in');
    const signedIn = await session.fetch('/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ key, _csrf: session.csrf }),
    });
    const home = signedIn.headers.get('location');
    if (signedIn.status !== 303 || !home) throw new Error(`signing in: ${signedIn.status}`);
    session.csrf = await session.tokenOf(home);
    return session;
  }

  /** The `Cookie` header the browser would send. */
  get cookie(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** A request with the session's cookies; redirects are returned, not followed. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', this.cookie);
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const set of res.headers.getSetCookie()) {
      const [pair = ''] = set.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return res;
  }

  /** A posted form with the session's CSRF token: urlencoded, or multipart as forms with a file input send it. */
  postForm(path: string, fields: Record<string, string>, { multipart = false } = {}): Promise<Response> {
    const all = { _csrf: this.csrf, ...fields };
    const body = multipart ? new FormData() : new URLSearchParams();
    for (const [name, value] of Object.entries(all)) body.append(name, value);
    return this.fetch(path, { method: 'POST', body });
  }

  private async tokenOf(path: string): Promise<string> {
    const res = await this.fetch(path);
    const token = CSRF.exec(await res.text())?.[1];
    if (!token) throw new Error(`no CSRF token on ${path} (${res.status})`);
    return token;
  }
}
