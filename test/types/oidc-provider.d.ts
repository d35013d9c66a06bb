/** The little of oidc-provider (which ships no types) that the sign-in tests' provider uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account {
    accountId: string;
    claims(): Record<string, unknown>;
  }

  export default class Provider {
    constructor(
      issuer: string,
      configuration: {
        clients: Record<string, unknown>[];
        cookies: { keys: string[] };
        pkce: { required: () => boolean };
        ttl: Record<string, number>;
        conformIdTokenClaims: boolean;
        claims: Record<string, string[]>;
        findAccount: (ctx: unknown, sub: string) => Account;
      },
    );
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
