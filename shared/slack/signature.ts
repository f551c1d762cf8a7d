import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window: a request signed more than 5 minutes away from now is refused. */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 5 * 60;

export type SignatureVerdict =
  | { ok: true; timestamp: number; signature: string }
  | { ok: false; reason: 'missing_signature' | 'stale_timestamp' | 'bad_signature' };

/** `v0=` + hex HMAC-SHA256 of `v0:timestamp:body` with the signing secret (Slack's request signing). */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Verifies Slack's signature over the raw body, as sent (never a re-serialised parse of it). No maintained
 * Slack package installed here exposes this (Bolt is not a dependency, @slack/events-api is deprecated),
 * so it is node:crypto, compared in constant time.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
  now: Date;
}): SignatureVerdict {
  const { timestamp, signature } = input;
  if (!input.signingSecret || !timestamp || !signature) return { ok: false, reason: 'missing_signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale_timestamp' };
  const ts = Number(timestamp);
  if (Math.abs(input.now.getTime() / 1000 - ts) > SLACK_SIGNATURE_WINDOW_SECONDS)
    return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  return { ok: true, timestamp: ts, signature };
}
