/**
 * Who is acting, as each channel knows them: Slack by user id (never the display name), the API by the
 * verified e-mail of a Google ID token, the embedded mode's status page, CLI and bearer token as the local
 * user. policies/approvals.yaml maps all three to one person.
 */
export type Identity =
  { kind: 'slack'; userId: string } | { kind: 'google'; email: string } | { kind: 'local' };

/** The engine itself: the requester of every request no person's change triggered. */
export const WARDEN_REQUESTER = 'warden';

/** The stable string form used in votes, audit records and requesters: slack:U…, google:…, local. */
export function identityKey(identity: Identity): string {
  switch (identity.kind) {
    case 'slack':
      return `slack:${identity.userId}`;
    case 'google':
      return `google:${identity.email.toLowerCase()}`;
    case 'local':
      return 'local';
  }
}

export function parseIdentityKey(key: string): Identity | null {
  if (key === 'local') return { kind: 'local' };
  const m = /^(slack|google):(.+)$/.exec(key);
  if (!m) return null;
  return m[1] === 'slack' ? { kind: 'slack', userId: m[2]! } : { kind: 'google', email: m[2]! };
}
