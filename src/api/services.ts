import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DesignerService } from '../service/designer.js';
import type { JobService } from '../service/jobs.js';
import type { KeyService } from '../service/keys.js';
import type { PeopleService } from '../service/people.js';
import type { PieceService } from '../service/pieces.js';
import type { ProfileService } from '../service/profiles.js';
import type { RateLimitService } from '../service/rate-limits.js';
import type { RenderService } from '../service/render.js';
import type { ResultsService } from '../service/results.js';
import type { SessionService } from '../service/sessions.js';
import type { SettingsService } from '../service/settings.js';
import type { TemplateService } from '../service/templates.js';
import type { WebhookService } from '../service/webhooks.js';
import type { UploadSlots } from './bodies.js';
import type { RenderGate } from './limits.js';

/** What route handlers and pages work with: the services, and the limits of this process. */
export interface Services {
  config: Config;
  log: Logger;
  /** Where request bodies land (see readBody). */
  stagingDir: string;
  templates: TemplateService;
  designer: DesignerService;
  renders: RenderService;
  pieces: PieceService;
  results: ResultsService;
  jobs: JobService;
  profiles: ProfileService;
  keys: KeyService;
  sessions: SessionService;
  people: PeopleService;
  webhooks: WebhookService;
  settings: SettingsService;
  rateLimits: RateLimitService;
  gate: RenderGate;
  uploads: UploadSlots;
}
