import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Action } from '../service/policy.js';
import type { ApiKey } from '../store/keys.js';

/**
 * A route is declared once, with zod schemas for its path parameters, query and JSON body; the same
 * declaration validates requests and generates the OpenAPI document, so the two cannot drift.
 */

export type Upload =
  /** A zip body: `application/zip` (or a multipart `file` field). */
  | { kind: 'zip'; maxBytes: number }
  /** multipart/form-data with named file fields; other form fields are validated by `body`. */
  | { kind: 'multipart'; files: readonly string[]; maxBytes: number };

export type ResponseKind = 'json' | 'pdf' | 'png' | 'zip' | 'csv' | 'events' | 'empty';

export interface RouteDoc {
  description: string;
  kind: ResponseKind;
  schema?: z.ZodType;
  headers?: Record<string, string>;
}

export interface Ctx<P, Q, B> {
  req: Request;
  res: Response;
  /** The caller; null on public routes. */
  auth: ApiKey | null;
  params: P;
  query: Q;
  body: B;
  /** Uploaded files by field name (or `file` for a zip body). */
  files: Record<string, Buffer>;
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
  body?: z.ZodType<B>;
  /** Largest JSON body accepted. */
  jsonLimit?: string;
  upload?: Upload;
  /** Renders are costly: these routes take a place in the render gate, and are refused early when it is full. */
  gated?: boolean;
  responses: Record<number, RouteDoc>;
  handle(ctx: Ctx<P, Q, B>): Promise<void>;
}

/** Declares a route with its types inferred from its schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  r: Route<P, Q, B>,
): Route<P, Q, B> {
  return r;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds routes of every shape
export type AnyRoute = Route<any, any, any>;
