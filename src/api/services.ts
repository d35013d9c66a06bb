import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { JobService } from '../service/jobs.js';
import type { KeyService } from '../service/keys.js';
import type { ProfileService } from '../service/profiles.js';
import type { RenderService } from '../service/render.js';
import type { TemplateService } from '../service/templates.js';
import type { Store } from '../store/store.js';
import type { UploadSlots } from './bodies.js';
import type { RenderGate } from './limits.js';

/** What route handlers work with. */
export interface Services {
  config: Config;
  log: Logger;
  store: Store;
  templates: TemplateService;
  renders: RenderService;
  jobs: JobService;
  profiles: ProfileService;
  keys: KeyService;
  gate: RenderGate;
  uploads: UploadSlots;
}
