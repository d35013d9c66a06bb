import express, { type RequestHandler, Router } from 'express';
import type { Services } from '../api/services.js';
import { adminRoutes } from './admin-pages.js';
import { batchRoutes } from './batch-pages.js';
import { marketingRoutes } from './marketing-pages.js';
import { designerRoutes } from './designer-pages.js';
import { galleryRoutes } from './gallery-pages.js';
import { createWeb, pageErrors, unmatchedPage } from './pages.js';
import { pieceRoutes } from './piece-pages.js';
import { repRoutes } from './rep-pages.js';
import { resultsRoutes } from './results-pages.js';
import { passwordRoutes } from './password-sign-in.js';
import { peopleRoutes } from './people-pages.js';
import { signInRoutes } from './sign-in.js';
import { singleSignOnRoutes } from './single-sign-on.js';
import { trackingRoutes } from './tracking.js';
import { BUNDLE_DIR, PUBLIC_DIR } from './views.js';

/**
 * The pages, mounted on the API's express app: server-rendered views, small static scripts, a
 * session cookie after signing in with an API key or through the identity provider. They call the same services as the API, and
 * count against the same per-key rate limit. The tracked links printed on pieces come first: they
 * are public, and nothing on their way sets a cookie.
 */
export async function webRouter(s: Services, rateLimit: RequestHandler): Promise<Router> {
  const web = await createWeb(s, rateLimit);
  const router = Router();
  // Asset URLs carry a content hash (views.ts), so a year of caching is safe.
  const statics = { maxAge: '365d', immutable: true, index: false };
  router.use('/static', express.static(PUBLIC_DIR, statics), express.static(BUNDLE_DIR, statics));
  trackingRoutes(web, router);
  signInRoutes(web, router);
  singleSignOnRoutes(web, router);
  passwordRoutes(web, router);
  galleryRoutes(web, router);
  repRoutes(web, router);
  pieceRoutes(web, router);
  marketingRoutes(web, router);
  designerRoutes(web, router);
  batchRoutes(web, router);
  resultsRoutes(web, router);
  adminRoutes(web, router);
  peopleRoutes(web, router);
  router.use(unmatchedPage(web, router));
  router.use(pageErrors(web));
  return router;
}
