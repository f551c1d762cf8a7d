import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import type { Identity } from '../approvals/identity.js';

/** Who is calling, from the Authorization header; null when the credential is missing or not valid. */
export type Authenticator = (authorization: string | undefined) => Promise<Identity | null>;

function bearer(authorization: string | undefined): string | null {
  const m = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '');
  return m ? m[1]! : null;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The embedded mode's API token (WARDEN_API_TOKEN): whoever holds it acts as the local user. Compared in
 * constant time (over digests, so the length is not revealed either).
 */
export function apiTokenAuthenticator(token: string): Authenticator {
  if (token.length < 16) throw new Error('the API token must be at least 16 characters');
  const expected = digest(token);
  return async (authorization) => {
    const given = bearer(authorization);
    return given !== null && timingSafeEqual(digest(given), expected) ? { kind: 'local' } : null;
  };
}

export function generateApiToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Production: a Google-signed ID token (`gcloud auth print-identity-token`, or a service account's) with
 * this API's audience; the caller is its verified e-mail. google-auth-library checks signature, issuer and
 * times; the audience is always passed, since without one it would not be checked at all.
 */
export function googleIdTokenAuthenticator(opts: {
  audience: string | string[];
  client?: OAuth2Client;
  onFailure?: (reason: string) => void;
}): Authenticator {
  const audience = Array.isArray(opts.audience) ? opts.audience : [opts.audience];
  if (audience.length === 0 || audience.some((a) => !a)) throw new Error('an ID token audience is required');
  const client = opts.client ?? new OAuth2Client();
  return async (authorization) => {
    const idToken = bearer(authorization);
    if (!idToken) return null;
    try {
      const ticket = await client.verifyIdToken({ idToken, audience });
      const payload = ticket.getPayload();
      if (!payload?.email || payload.email_verified !== true) {
        opts.onFailure?.('token has no verified e-mail');
        return null;
      }
      return { kind: 'google', email: payload.email };
    } catch (err) {
      // The library's messages quote the token: log the reason only.
      opts.onFailure?.((err instanceof Error ? err.message : String(err)).split(':')[0] ?? 'invalid token');
      return null;
    }
  };
}
