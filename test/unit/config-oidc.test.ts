/** Single sign-on's configuration: all three settings or none, a provider over https, role values in words. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';

const SSO = {
  PLATEN_OIDC_ISSUER: 'https://harbor.okta.com/oauth2/default',
  PLATEN_OIDC_CLIENT_ID: 'platen',
  PLATEN_OIDC_CLIENT_SECRET: 'secret',
};

describe('single sign-on configuration', () => {
  it('is off without its settings, and on with all three', () => {
    expect(loadConfig({}).oidc).toBeNull();
    const oidc = loadConfig({ ...SSO, PLATEN_OIDC_ROLE_CLAIM: 'groups' }).oidc!;
    expect(oidc).toMatchObject({
      issuer: SSO.PLATEN_OIDC_ISSUER,
      clientId: 'platen',
      name: 'single sign-on',
    });
    expect(oidc.roleClaim).toBe('groups');
    expect(oidc.repClaim).toBeNull();
    expect([...oidc.roleValues]).toEqual([
      ['admin', 'admin'],
      ['marketing', 'marketing'],
      ['rep', 'rep'],
    ]);
  });

  it('refuses some of the three without the others', () => {
    expect(configProblems({ PLATEN_OIDC_ISSUER: SSO.PLATEN_OIDC_ISSUER })).toEqual([
      expect.stringMatching(/^PLATEN_OIDC_ISSUER: single sign-on needs all three/),
    ]);
  });

  it('takes a provider over https, or over http on this machine only', () => {
    expect(configProblems({ ...SSO, PLATEN_OIDC_ISSUER: 'http://id.example.com' })).toEqual([
      expect.stringMatching(/^PLATEN_OIDC_ISSUER: expected an https:\/\/ address/),
    ]);
    expect(loadConfig({ ...SSO, PLATEN_OIDC_ISSUER: 'http://127.0.0.1:4000' }).oidc?.issuer).toBe(
      'http://127.0.0.1:4000',
    );
  });

  it('maps role claim values to roles, and refuses a role that is not one', () => {
    const { roleValues } = loadConfig({
      ...SSO,
      PLATEN_OIDC_ROLE_VALUES: 'admin=Platen Admins, rep=Sales team,rep=Field',
    }).oidc!;
    expect(Object.fromEntries(roleValues)).toEqual({
      'Platen Admins': 'admin',
      'Sales team': 'rep',
      Field: 'rep',
    });
    expect(configProblems({ ...SSO, PLATEN_OIDC_ROLE_VALUES: 'owner=Owners' })).toEqual([
      expect.stringMatching(/^PLATEN_OIDC_ROLE_VALUES: expected role=value/),
    ]);
  });
});
