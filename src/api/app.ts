import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { joinPath, PlatenError, problemsFromZod, prototypeKeys } from '../errors.js';
import { authenticate } from './auth.js';
import { readBody, uploadsOf } from './bodies.js';
import { overloaded } from './limits.js';
import { HttpError, problemHandler, requestIdOf, sendProblem } from './problem.js';
import { callerOf, perKeyRateLimit } from './rate-limit.js';
import { acceptsOf, type AnyRoute } from './route.js';
import { unmatched } from './unmatched.js';
import { keyRoutes } from './routes/keys.js';
import { metaRoutes } from './routes/meta.js';
import { recipientRoutes } from './routes/recipients.js';
import { pieceRoutes } from './routes/pieces.js';
import { renderRoutes } from './routes/renders.js';
import { repRoutes } from './routes/reps.js';
import { resultRoutes } from './routes/results.js';
import { jobRoutes } from './routes/jobs.js';
import { designerRoutes } from './routes/designer.js';
import { templateRoutes } from './routes/templates.js';
import { settingRoutes } from './routes/settings.js';
import { webhookRoutes } from './routes/webhooks.js';
import type { Services } from './services.js';
import { webRouter } from '../web/router.js';

/** Every route of the API, in the order the OpenAPI document lists them. */
export function apiRoutes(s: Services): AnyRoute[] {
  const routes: AnyRoute[] = [];
  routes.push(
    ...metaRoutes(() => routes),
    ...templateRoutes(s),
    ...designerRoutes(s),
    ...repRoutes(s),
    ...renderRoutes(s),
    ...pieceRoutes(s),
    ...jobRoutes(s),
    ...resultRoutes(s),
    ...keyRoutes(s),
    ...recipientRoutes(s),
    ...webhookRoutes(s),
    ...settingRoutes(s),
  );
  return routes;
}

/** The express app: security headers, request logging and timeouts, then the API routes and the pages, then problem+json errors. */
export async function createApp(s: Services): Promise<express.Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', s.config.trustProxy === 0 ? false : s.config.trustProxy);
  app.use(helmet());
  app.use(requestId);
  app.use(requestLog(s));
  app.use(timeout(s.config.requestTimeoutMs));

  const limiter = perKeyRateLimit(s.config.rateLimit, s.rateLimits);

  for (const r of apiRoutes(s)) {
    const chain: RequestHandler[] = [];
    if (r.action) {
      const action = r.action;
      chain.push((req, res, next) => {
        authenticate(req, s.keys, action).then((caller) => {
          res.locals.caller = caller;
          next();
        }, next);
      }, limiter);
    }
    if (r.gated) {
      // Overload is answered before the body is read: a refused request must cost next to nothing.
      chain.push((_req, _res, next) => next(s.gate.full ? overloaded() : undefined));
    }
    const accepts = acceptsOf(r);
    if (accepts) chain.push(readBody({ stagingDir: s.stagingDir, uploads: s.uploads }, accepts));
    chain.push(handler(r));
    app[r.method](r.path, ...chain);
  }
  app.use(await webRouter(s, limiter));
  app.use(unmatched(app.router));
  app.use(problemHandler(s.log));
  return app;
}

/** Validates params, query and body against the route's schemas (422 naming each problem), then runs it. */
function handler(r: AnyRoute): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const params = parse(r.params, req.params, 'params.');
      const query = parse(r.query, req.query, 'query.');
      const body = r.body ? parse(r.body, req.body, '') : undefined;
      const signal = (res.locals as { signal: AbortSignal }).signal;
      await r.handle({
        req,
        res,
        auth: callerOf(res) ?? null,
        params,
        query,
        body,
        files: uploadsOf(req),
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
          // A tracked link's code would tie the log's exact time to one recipient's piece.
          url: req.originalUrl.replace(/^\/r\/[^?]*/, '/r/…'),
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
 * queued render never starts (see RenderGate, WorkerPool.piece), one in progress stops at its next step
 * (stillWanted), and a finished one is not recorded (the audit trail never lists a piece nobody received).
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
