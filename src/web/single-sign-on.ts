import type { Request, RequestHandler, Response, Router } from 'express';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { repIdSchema } from '../api/routes/reps.js';
import type { OidcConfig } from '../config.js';
import { NotFoundError } from '../errors.js';
import { ROLES, type Role } from '../service/policy.js';
import { pageCsp, sendPage, type Web } from './pages.js';
import { home, nextPath, signInChoices } from './sign-in.js';

/** What a person is asked to share: who they are, and how to write to them. */
const SCOPE = 'openid email profile';

/** What the callback checks the provider's answer against, kept in a signed cookie meanwhile. */
const flowSchema = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  next: z.string().optional(),
});

/**
 * Single sign-on for people: OpenID Connect's authorization code flow with PKCE, a state and a
 * nonce, against the provider PLATEN_OIDC_ISSUER names (discovered the first time someone signs in,
 * so a provider that is down does not stop the service starting). The provider says who a person
 * is; its claims, where configured, say their role and rep id; an admin does otherwise.
 */
export function singleSignOnRoutes(web: Web, router: Router): void {
  const config = web.s.config.oidc;
  if (!config) {
    // Without a provider there is nothing to sign in with: the routes are there, and answer so.
    const none: RequestHandler = (_req, _res, next) =>
      next(new NotFoundError('not_found', 'Single sign-on is not set up here: sign in with an API key.'));
    router.get('/auth/sign-in', pageCsp, none);
    router.get('/auth/callback', pageCsp, none);
    return;
  }
  let discovered: Promise<oidc.Configuration> | null = null;
  const provider = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      .discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
        // http is allowed for a provider on this machine only (config.ts), as the tests run one.
        ...(config.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        discovered = null;
        throw error;
      });
    return discovered;
  };
  // The address the provider sends people back to, as registered with it.
  const callback = () => `${web.s.pieces.publicUrl}/auth/callback`;

  const failed = (req: Request, res: Response, status: number, error: string) =>
    sendPage(
      web,
      res,
      'sign-in',
      {
        title: 'Sign in',
        ...signInChoices(web, undefined),
        ssoError: error,
        csrf: web.sessions.csrfToken(req, res, null),
      },
      status,
    );

  router.get('/auth/sign-in', pageCsp, async (req, res) => {
    let server: oidc.Configuration;
    try {
      server = await provider();
    } catch (error) {
      web.s.log.warn({ err: error, issuer: config.issuer }, 'the identity provider could not be reached');
      return failed(req, res, 503, `${config.name} cannot be reached just now: try again in a minute.`);
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const next = nextPath.parse(req.query.next);
    web.sessions.beginSignIn(req, res, { state, nonce, verifier, ...(next ? { next } : {}) });
    const url = oidc.buildAuthorizationUrl(server, {
      redirect_uri: callback(),
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    res.redirect(303, url.href);
  });

  router.get('/auth/callback', pageCsp, async (req, res) => {
    const flow = flowSchema.safeParse(web.sessions.takeSignIn(req, res));
    if (!flow.success) {
      return failed(req, res, 400, 'That sign-in was not started here, or took too long: sign in again.');
    }
    let claims: oidc.IDToken;
    try {
      const server = await provider();
      const tokens = await oidc.authorizationCodeGrant(server, new URL(req.originalUrl, callback()), {
        pkceCodeVerifier: flow.data.verifier,
        expectedState: flow.data.state,
        expectedNonce: flow.data.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims()!;
    } catch (error) {
      // The person chose not to go on at the provider (its state checked first): nothing went wrong.
      if (error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied') {
        return failed(
          req,
          res,
          400,
          `You stopped signing in with ${config.name}: sign in again when you are ready.`,
        );
      }
      web.s.log.warn({ err: error }, 'a sign-in through the identity provider was refused');
      return failed(req, res, 400, `Signing in with ${config.name} did not work: sign in again.`);
    }
    const person = await web.s.people.signIn(identityOf(config, claims));
    if (!person) return failed(req, res, 403, 'Your access to Platen has been turned off: ask an admin.');
    await web.sessions.start(req, res, { personId: person.id });
    res.redirect(303, person.role ? (flow.data.next ?? home(person.role)) : '/waiting');
  });
}

/** Who the provider says signed in, and the role and rep id its claims give them, if any. */
function identityOf(config: OidcConfig, claims: oidc.IDToken) {
  const text = (name: string): string | undefined => {
    const value = claims[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  // Entra ID may carry no `email`: its sign-in name is the address people know.
  const email = text('email') ?? text('preferred_username') ?? '';
  const role = config.roleClaim ? roleOf(config, claims[config.roleClaim]) : undefined;
  const repId = config.repClaim ? repIdSchema.safeParse(claims[config.repClaim]).data : undefined;
  return {
    issuer: claims.iss,
    subject: claims.sub,
    name: text('name') ?? (email || claims.sub),
    email,
    ...(role ? { role } : {}),
    ...(repId ? { repId } : {}),
  };
}

/** The role a claim's value (or values: a groups claim) gives: the strongest one, if any. */
function roleOf(config: OidcConfig, value: unknown): Role | undefined {
  const values = (Array.isArray(value) ? value : [value]).filter((v) => typeof v === 'string');
  const given = new Set(values.map((v) => config.roleValues.get(v)));
  return ROLES.find((role) => given.has(role));
}
