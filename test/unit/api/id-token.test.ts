import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OAuth2Client } from 'google-auth-library';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { googleIdTokenAuthenticator } from '../../../shared/api/auth.js';

// Google's ID tokens are RS256 JWTs checked against Google's published certificates. Here a local key pair
// signs them and a local server publishes the public key where the client looks for Google's (no network).
const AUDIENCE = 'https://europe-west1-acme.cloudfunctions.net/warden-api';
const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'test-key-1';

function sign(payload: Record<string, unknown>, privateKey = key.privateKey, kid = KID): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64(payload)}`;
  const s = createSign('RSA-SHA256').update(head).sign(privateKey).toString('base64url');
  return `${head}.${s}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (over: Record<string, unknown> = {}) => ({
  iss: 'https://accounts.google.com',
  aud: AUDIENCE,
  sub: '1234567890',
  email: 'bob@example.com',
  email_verified: true,
  iat: now() - 10,
  exp: now() + 3000,
  ...over,
});

let server: Server;
let certsUrl: string;
let fetches = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ [KID]: key.publicKey.export({ type: 'spki', format: 'pem' }) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  certsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v1/certs`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const authenticator = () =>
  googleIdTokenAuthenticator({
    audience: AUDIENCE,
    client: new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: certsUrl } }),
  });

describe('Google-signed ID tokens', () => {
  it('accepts a valid token for this audience as its verified e-mail, fetching the certificates once', async () => {
    const auth = authenticator();
    expect(await auth(`Bearer ${sign(claims())}`)).toEqual({ kind: 'google', email: 'bob@example.com' });
    expect(await auth(`Bearer ${sign(claims({ iss: 'accounts.google.com' }))}`)).toEqual({
      kind: 'google',
      email: 'bob@example.com',
    });
    expect(fetches).toBe(1);
  });

  it('refuses another audience, another issuer, an expired or future token, a forged signature, an unverified e-mail', async () => {
    const auth = authenticator();
    for (const token of [
      sign(claims({ aud: 'https://someone-else.example.com' })),
      sign(claims({ iss: 'https://evil.example.com' })),
      sign(claims({ iat: now() - 7200, exp: now() - 3600 })),
      sign(claims({ iat: now() + 3600, exp: now() + 4000 })),
      sign(claims(), other.privateKey),
      sign(claims(), key.privateKey, 'unknown-kid'),
      sign(claims({ email_verified: false })),
      sign(claims({ email: undefined })),
      'not.a.jwt',
    ])
      expect(await auth(`Bearer ${token}`)).toBeNull();
    expect(await auth(undefined)).toBeNull();
    expect(await auth(sign(claims()))).toBeNull();
  });

  it('cannot be built without an audience (the library would skip the check)', () => {
    expect(() => googleIdTokenAuthenticator({ audience: [] })).toThrow(/audience/);
    expect(() => googleIdTokenAuthenticator({ audience: '' })).toThrow(/audience/);
  });
});
