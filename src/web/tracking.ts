import type { ErrorRequestHandler, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { isbot } from 'isbot';
import type { DeviceClass } from '../service/pieces.js';
import { pageCsp, sendPage, type Web } from './pages.js';

/**
 * Tracked links: `/r/<code>`, which a piece prints as `{{piece.url}}` (with `?qr` inside its QR code),
 * counts a response to the piece and sends the visitor on to its landing page. Public: no key, no
 * session, no cookie. Of the visitor only the minute, scan or visit, and the device class are kept;
 * the client address lives a minute in the rate limiter's memory and nowhere else.
 */
export function trackingRoutes(web: Web, router: Router): void {
  const { s } = web;
  const perClient = rateLimit({
    windowMs: 60_000,
    limit: s.config.trackingRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Anyone can send X-Forwarded-For; it is believed only from the proxies PLATEN_TRUST_PROXY names,
    // and a forged one is ignored, which the library would otherwise log as a misconfiguration.
    validate: { xForwardedForHeader: false },
    handler: (_req, res) =>
      linkPage(web, res, 429, 'Too many visits', 'Too many visits from here: wait a minute and try again.'),
  });

  router.get('/r/:code', noTrace, pageCsp, perClient, async (req, res) => {
    const userAgent = req.get('user-agent');
    const landing = await s.pieces.respond(String(req.params.code), {
      kind: req.query.qr === undefined ? 'visit' : 'scan',
      device: deviceClass(userAgent),
      // Express answers HEAD with this route too: a HEAD or a link preview is nobody responding.
      count: req.method === 'GET' && !isbot(userAgent),
    });
    if (!landing) return unknownLink(web, res);
    res.redirect(302, landing);
  });
  // Whatever else comes under /r (no code, more than a code, a code that cannot even be decoded)
  // leads nowhere too, and is answered the same.
  router.use('/r', ((error, _req, _res, next) => {
    next(error instanceof URIError ? undefined : error);
  }) satisfies ErrorRequestHandler);
  router.use('/r', noTrace, pageCsp, (_req, res) => unknownLink(web, res));
}

/** The same page for every link that leads nowhere: it tells nothing of which codes exist. */
function unknownLink(web: Web, res: Response): void {
  linkPage(
    web,
    res,
    404,
    'Link not known',
    'This link is not known. Check that it was typed exactly as printed.',
  );
}

/** Neither the answer nor the landing page's Referer may carry the code on. */
const noTrace: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
  next();
};

function linkPage(web: Web, res: Response, status: number, title: string, message: string): void {
  sendPage(web, res, 'link', { title, message }, status);
}

/**
 * The class of device a user agent names, the only thing kept of it. iPads that present themselves
 * as a Mac count as desktops: their user agent cannot tell them apart.
 */
export function deviceClass(userAgent: string | undefined): DeviceClass {
  const ua = userAgent ?? '';
  if (/iPad|Tablet|Kindle|Silk|PlayBook|Android(?!.*Mobile)/i.test(ua)) return 'tablet';
  if (/Mobi|iPhone|iPod|Android|Windows Phone|BlackBerry|Opera Mini/i.test(ua)) return 'phone';
  if (/Windows NT|Macintosh|X11|CrOS|Linux/i.test(ua)) return 'desktop';
  return 'other';
}
