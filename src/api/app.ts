import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import multer from 'multer';
import { joinPath, PlatenError, problemsFromZod, prototypeKeys } from '../errors.js';
import { authenticate } from './auth.js';
import { overloaded } from './limits.js';
import { HttpError, problemHandler, requestIdOf, sendProblem } from './problem.js';
import { callerOf, perKeyRateLimit } from './rate-limit.js';
import type { AnyRoute } from './route.js';
import { keyRoutes } from './routes/keys.js';
import { metaRoutes } from './routes/meta.js';
import { renderRoutes } from './routes/renders.js';
import { repRoutes } from './routes/reps.js';
import { jobRoutes } from './routes/jobs.js';
import { templateRoutes } from './routes/templates.js';
import type { Services } from './services.js';
import { webRouter } from '../web/router.js';

/** Every route of the API, in the order the OpenAPI document lists them. */
export function apiRoutes(s: Services): AnyRoute[] {
  const routes: AnyRoute[] = [];
  routes.push(
    ...metaRoutes(() => routes),
    ...templateRoutes(s),
    ...repRoutes(s),
    ...renderRoutes(s),
    ...jobRoutes(s),
    ...keyRoutes(s),
  );
  return routes;
}

/** The express app: security headers, request logging and timeouts, then the API routes and the pages, then problem+json errors. */
export function createApp(s: Services): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use(requestId);
  app.use(requestLog(s));
  app.use(timeout(s.config.requestTimeoutMs));

  const limiter = perKeyRateLimit(s.config.rateLimit);

  for (const r of apiRoutes(s)) {
    const chain: RequestHandler[] = [];
    if (r.action) {
      const action = r.action;
      chain.push((req, res, next) => {
        res.locals.caller = authenticate(req, s.store.keys, action);
        next();
      }, limiter);
    }
    if (r.gated) {
      // Overload is answered before the body is read: a refused request must cost next to nothing.
      chain.push((_req, _res, next) => next(s.gate.full ? overloaded() : undefined));
    }
    chain.push(...bodyParsers(r), handler(r));
    app[r.method](r.path, ...chain);
  }
  app.use(webRouter(s, limiter));
  app.use((req, res) =>
    sendProblem(res, new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)),
  );
  app.use(problemHandler(s.log));
  return app;
}

/** Body parsers answer a malformed body with 400 (413 when too large), never a 500. */
function clientErrors(parser: RequestHandler): RequestHandler {
  return (req, res, next) =>
    parser(req, res, (error?: unknown) => {
      if (!error) return next();
      const e = error as { status?: number; type?: string; code?: string; message?: string };
      if (e.type === 'entity.too.large' || e.code === 'LIMIT_FILE_SIZE') {
        return next(new HttpError(413, 'too_large', 'the request body is larger than this route accepts'));
      }
      if (e.type === 'entity.parse.failed') {
        return next(new HttpError(400, 'invalid_json', 'the request body is not valid JSON'));
      }
      next(
        new HttpError(
          e.status === 415 ? 415 : 400,
          'bad_upload',
          `the request body could not be read: ${e.message ?? 'malformed'}`,
        ),
      );
    });
}

function bodyParsers(r: AnyRoute): RequestHandler[] {
  return rawBodyParsers(r).map(clientErrors);
}

function rawBodyParsers(r: AnyRoute): RequestHandler[] {
  if (r.upload?.kind === 'zip') {
    const raw = express.raw({
      type: ['application/zip', 'application/x-zip-compressed', 'application/octet-stream'],
      limit: r.upload.maxBytes,
    });
    const form = multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: r.upload.maxBytes, files: 1, fields: 0 },
    }).single('file');
    return [(req, res, next) => (req.is('multipart/form-data') ? form(req, res, next) : raw(req, res, next))];
  }
  if (r.upload?.kind === 'multipart') {
    const fields = r.upload.files.map((name) => ({ name, maxCount: 1 }));
    return [
      multer({
        storage: multer.memoryStorage(),
        limits: { fileSize: r.upload.maxBytes, files: fields.length, fields: 50, fieldSize: 10_000 },
      }).fields(fields),
    ];
  }
  if (r.body) return [express.json({ limit: r.jsonLimit ?? '64kb', strict: true })];
  return [];
}

/** Validates params, query and body against the route's schemas (422 naming each problem), then runs it. */
function handler(r: AnyRoute): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const params = parse(r.params, req.params, 'params.');
      const query = parse(r.query, req.query, 'query.');
      const files = collectFiles(req, r);
      const raw = r.upload?.kind === 'multipart' ? { ...(req.body as object) } : req.body;
      const body = r.body ? parse(r.body, raw ?? {}, '') : undefined;
      const signal = (res.locals as { signal: AbortSignal }).signal;
      await r.handle({
        req,
        res,
        auth: callerOf(res) ?? null,
        params,
        query,
        body,
        files,
        signal,
      });
    } catch (error) {
      // Answered already (the request timed out): the work was abandoned, there is nothing to send.
      if (res.headersSent) return;
      next(error);
    }
  };
}

function parse(schema: AnyRoute['params'], value: unknown, prefix: string): unknown {
  if (!schema) return {};
  const protoKeys = prototypeKeys(value);
  if (protoKeys.length > 0) {
    throw new PlatenError(
      'invalid_request',
      protoKeys.map((path) => ({
        path: `${prefix}${joinPath('', path)}`,
        rule: 'unknown_key',
        message: 'reserved name',
      })),
    );
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: `${prefix}${[...issue.path, key].join('.')}`,
          rule: 'unknown_key',
          message: prefix
            ? 'not a known parameter'
            : 'not accepted here (locked content and the rep come from the template and your profile)',
        }))
      : problemsFromZod([issue], prefix.replace(/\.$/, '')),
  );
  throw new PlatenError('invalid_request', problems);
}

function collectFiles(req: Request, r: AnyRoute): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  if (r.upload?.kind === 'zip') {
    const body = req.file?.buffer ?? (Buffer.isBuffer(req.body) ? req.body : null);
    if (!body || body.length === 0) {
      throw new HttpError(
        415,
        'no_package',
        'send the package as an application/zip body or a multipart "file" field',
      );
    }
    files.file = body;
  } else if (r.upload?.kind === 'multipart' && req.files && !Array.isArray(req.files)) {
    for (const [name, list] of Object.entries(req.files)) if (list[0]) files[name] = list[0].buffer;
  }
  return files;
}

/** Every request gets an id: in `X-Request-Id`, its log lines and any problem it is answered with. */
const requestId: RequestHandler = (_req, res, next) => {
  res.locals.requestId = randomUUID();
  res.set('X-Request-Id', res.locals.requestId as string);
  next();
};

function requestLog(s: Services): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      s.log.info(
        {
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - start) / 1e6,
          key: callerOf(res)?.id,
          requestId: requestIdOf(res),
        },
        'request',
      );
    });
    next();
  };
}

/**
 * Every request's abort signal: its work is abandoned when nobody is left to receive it, so that a
 * queued render never starts and one in progress stops at its next step (see RenderGate, stillWanted),
 * and a finished one is not recorded (the audit trail never lists a piece nobody received).
 * - A request still unanswered after `ms` gets 503: a stuck render never holds a client forever.
 * - A client that disconnects before its answer is complete (the response closes unfinished) has left.
 */
function timeout(ms: number): RequestHandler {
  return (_req, res, next) => {
    const controller = new AbortController();
    res.locals.signal = controller.signal;
    const timer = setTimeout(() => {
      controller.abort(new HttpError(503, 'timeout', `no response within ${ms} ms`, { retryAfter: 5 }));
      if (!res.headersSent) sendProblem(res, controller.signal.reason as HttpError);
    }, ms);
    timer.unref();
    res.on('close', () => {
      clearTimeout(timer);
      // Nothing can be sent any more: the error handlers' answer to this reason goes nowhere.
      if (!res.writableFinished)
        controller.abort(new HttpError(499, 'client_closed', 'the client closed the connection'));
    });
    next();
  };
}
