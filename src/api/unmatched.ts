import type { RequestHandler, Router } from 'express';
import { HttpError, sendProblem } from './problem.js';

/** What express's router keeps of each route and mounted router (router 2's Layer and Route). */
interface Layer {
  match(path: string): { path: string } | false;
  route?: { _methods(): string[] };
  handle: { stack?: Layer[] };
}

/**
 * The methods some route answers at `path`, searching mounted routers too: what a 405's `Allow`
 * names. Empty when no route has the path at all (a 404).
 */
export function allowedMethods(router: Router | { stack: unknown[] }, path: string): string[] {
  const found = new Set<string>();
  const search = (stack: Layer[], rest: string) => {
    for (const layer of stack) {
      const match = layer.match(rest);
      if (!match) continue;
      if (layer.route) for (const method of layer.route._methods()) found.add(method);
      else if (layer.handle.stack) search(layer.handle.stack, rest.slice(match.path.length) || '/');
    }
  };
  search(router.stack as Layer[], path);
  return [...found].sort();
}

/**
 * The app's last answer, in problem JSON: 405 with `Allow` when the path has routes but not for
 * this method, else 404. (Browsers asking for a page got the pages' own first, src/web/pages.ts.)
 */
export function unmatched(router: Router): RequestHandler {
  return (req, res) => {
    const allow = allowedMethods(router, req.path);
    sendProblem(
      res,
      allow.length === 0
        ? new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)
        : new HttpError(
            405,
            'method_not_allowed',
            `${req.path} takes ${allow.join(', ')}, not ${req.method}`,
            {
              headers: { Allow: allow.join(', ') },
            },
          ),
    );
  };
}
