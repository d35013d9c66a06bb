import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PlatenError,
  type Problem,
  storageFault,
} from '../errors.js';

/**
 * Errors as RFC 9457 problem details: a stable `code`, a `detail` for people, and for validation
 * errors an `errors` list of `{ path, rule, message }`. Never a stack trace.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { errors?: Problem[]; retryAfter?: number; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/** The id of a request, sent back as `X-Request-Id`, in its log lines, and in every problem body. */
export const requestIdOf = (res: Response): string | undefined => res.locals.requestId as string | undefined;

export function sendProblem(res: Response, error: HttpError): void {
  if (error.extra.retryAfter !== undefined) res.set('Retry-After', String(error.extra.retryAfter));
  if (error.extra.headers) res.set(error.extra.headers);
  res
    .status(error.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `urn:platen:problem:${error.code}`,
        title: TITLES[error.status] ?? 'Error',
        status: error.status,
        code: error.code,
        detail: error.detail,
        ...(error.extra.errors ? { errors: error.extra.errors } : {}),
        requestId: requestIdOf(res),
      }),
    );
}

/** Maps anything thrown to a problem response; unexpected errors are logged and reported as 500. */
export function problemHandler(log: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    sendProblem(res, toHttpError(error, log, req, res));
  };
}

function toHttpError(error: unknown, log: Logger, req: Request, res: Response): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ForbiddenError) return new HttpError(403, error.code, error.message);
  if (error instanceof NotFoundError) return new HttpError(404, error.code, error.message);
  if (error instanceof ConflictError) return new HttpError(409, error.code, error.message);
  if (error instanceof PlatenError) {
    const detail =
      error.problems.length === 1 ? error.problems[0]!.message : `${error.problems.length} problems`;
    return new HttpError(422, error.code, detail, { errors: error.problems });
  }
  // Body errors are mapped where bodies are parsed (app.ts); express's own (a malformed URL) carry a status.
  const e = error as { status?: number; message?: string };
  if (e.status && e.status >= 400 && e.status < 500)
    return new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
  const where = { err: error, method: req.method, url: req.originalUrl, requestId: requestIdOf(res) };
  const fault = storageFault(error);
  if (fault) {
    log.error(where, 'storage failure');
    return new HttpError(fault.status, fault.code, fault.detail, { retryAfter: fault.retryAfter });
  }
  log.error(where, 'unhandled error');
  return new HttpError(
    500,
    'internal',
    `an unexpected error occurred; it has been logged with request id ${requestIdOf(res)}`,
  );
}
