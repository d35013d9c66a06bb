import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Action } from '../service/policy.js';
import type { ApiKey } from '../service/policy.js';
import type { Accepts, UploadedFile } from './bodies.js';

/**
 * A route is declared once, with zod schemas for its path parameters, query and body, and the media
 * types its body may come as; the same declaration validates requests and generates the OpenAPI
 * document, so the two cannot drift.
 */

export type ResponseKind = 'json' | 'pdf' | 'png' | 'zip' | 'csv' | 'events' | 'empty';

export interface RouteDoc {
  description: string;
  kind: ResponseKind;
  schema?: z.ZodType;
  headers?: Record<string, string>;
  /** The same answer in other media types, as the request's Accept header asks. */
  alternatives?: Exclude<ResponseKind, 'empty'>[];
}

export interface Ctx<P, Q, B> {
  req: Request;
  res: Response;
  /** The caller; null on public routes. */
  auth: ApiKey | null;
  params: P;
  query: Q;
  body: B;
  /** Uploaded files by field name (or `file` for a zip body), staged on disk until the response closes. */
  files: Record<string, UploadedFile>;
  /** Aborted when the request times out: long work checks it before it commits anything. */
  signal: AbortSignal;
}

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express syntax: `/api/v1/templates/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** What the route does in the role policy (which derives the roles allowed); null for a public route. */
  action: Action | null;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** The body's fields: a JSON object, or a form's text fields. */
  body?: z.ZodType<B>;
  /**
   * The media types the body may come as, with their limits; any other is refused with 415. A route
   * with a `body` and no `accepts` takes JSON of at most 64 KiB.
   */
  accepts?: Accepts;
  /** Renders are costly: these routes take a place in the render gate, and are refused early when it is full. */
  gated?: boolean;
  responses: Record<number, RouteDoc>;
  handle(ctx: Ctx<P, Q, B>): Promise<void>;
}

/** The media types a route's body may come as: none for a route without a body. */
export const acceptsOf = (r: AnyRoute): Accepts | undefined =>
  r.accepts ?? (r.body ? { json: {} } : undefined);

/** Declares a route with its types inferred from its schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  r: Route<P, Q, B>,
): Route<P, Q, B> {
  return r;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds routes of every shape
export type AnyRoute = Route<any, any, any>;
