/**
 * A real OpenID provider on loopback for the sign-in tests: `oidc-provider` (the certified
 * implementation) with its development login and consent pages, which take any login name. Each
 * login name is an account whose claims the test gives; the service's client is registered once the
 * service's address is known.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registers the service's client, sending people back to `redirectUri`; before anyone signs in. */
  register(redirectUri: string): void;
  close(): Promise<void>;
}

/** Claims of an account, by login name: those not listed get only a name and an email. */
export type Accounts = (login: string) => Record<string, unknown>;

export async function startIdentityProvider(accounts: Accounts): Promise<IdentityProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'platen';
  const clientSecret = 'a-client-secret-of-the-test-provider-0123456789';
  return {
    issuer,
    clientId,
    clientSecret,
    register(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        cookies: { keys: ['a-cookie-key-of-the-test-provider'] },
        pkce: { required: () => true },
        // Lifetimes stated (an hour; a sign-in takes seconds), so the provider does not remark on them.
        ttl: { AccessToken: 3600, Grant: 3600, IdToken: 3600, Interaction: 3600, Session: 3600 },
        // Role and rep claims in the ID token, as Okta and Entra ID put groups and app roles there.
        conformIdTokenClaims: false,
        claims: {
          openid: ['sub', 'platen_role', 'platen_rep'],
          email: ['email'],
          profile: ['name'],
        },
        findAccount: (_ctx, sub) => ({
          accountId: sub,
          claims: () => ({ sub, name: `Person ${sub}`, email: `${sub}@people.example`, ...accounts(sub) }),
        }),
      });
      handler = provider.callback();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
