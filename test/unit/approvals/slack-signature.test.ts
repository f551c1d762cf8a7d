import { afterEach, describe, expect, it } from '@jest/globals';
import { openSqliteDocumentStore } from '../../../shared/adapters/document-store-sqlite.js';
import { ManualClock } from '../../../shared/ports/clock.js';
import type { DocumentStore } from '../../../shared/ports/document-store.js';
import { ReplayGuard } from '../../../shared/slack/replay-guard.js';
import { slackSignature, verifySlackSignature } from '../../../shared/slack/signature.js';

// Slack's published example (docs.slack.dev/authentication/verifying-requests-from-slack), as pinned by
// Slack's own SDK tests: a slash-command body, its timestamp and the signature Slack sent.
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = (seconds: number) => new Date(seconds * 1000);

const verify = (over: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
  verifySlackSignature({
    signingSecret: SECRET,
    timestamp: TIMESTAMP,
    signature: SIGNATURE,
    rawBody: BODY,
    now: AT(1531420618),
    ...over,
  });

describe('Slack request signing', () => {
  it("computes Slack's published example signature", () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(slackSignature(SECRET, TIMESTAMP, Buffer.from(BODY))).toBe(SIGNATURE);
  });

  it('accepts the example with the clock pinned to its timestamp, and up to 5 minutes either side', () => {
    expect(verify()).toEqual({ ok: true, timestamp: 1531420618, signature: SIGNATURE });
    expect(verify({ now: AT(1531420618 + 300) }).ok).toBe(true);
    expect(verify({ now: AT(1531420618 - 300) }).ok).toBe(true);
  });

  it('refuses a stale or future timestamp (replay window), even with a valid signature', () => {
    expect(verify({ now: AT(1531420618 + 301) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify({ now: AT(1531420618 - 301) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    // Real time: the example is years old.
    expect(verify({ now: new Date() })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify({ timestamp: '1531420618.5' })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('refuses forged signatures: another secret, a changed body, a changed timestamp, a bad format', () => {
    expect(verify({ signingSecret: 'not-the-secret' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ rawBody: BODY.replace('roadrunner', 'coyote') })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verify({ timestamp: '1531420619', now: AT(1531420619) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verify({ signature: SIGNATURE.replace('v0=', 'v1=') })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verify({ signature: SIGNATURE.slice(0, -1) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ signature: SIGNATURE.toUpperCase() })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a request without signature or timestamp, or when no secret is configured', () => {
    expect(verify({ signature: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ timestamp: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ signingSecret: '' })).toEqual({ ok: false, reason: 'missing_signature' });
  });
});

describe('replay guard', () => {
  let store: DocumentStore | undefined;
  afterEach(async () => store?.close());

  it('accepts a signature once within its lifetime, forgets it afterwards, and prunes', async () => {
    store = openSqliteDocumentStore(':memory:');
    const clock = new ManualClock('2018-07-12T18:36:58.000Z');
    const guard = new ReplayGuard(store, clock);
    expect(await guard.firstUse(SIGNATURE)).toBe(true);
    expect(await guard.firstUse(SIGNATURE)).toBe(false);
    // Two deliveries racing: only one wins.
    const other = 'v0=' + 'b'.repeat(64);
    expect((await Promise.all([guard.firstUse(other), guard.firstUse(other)])).sort()).toEqual([false, true]);
    clock.advance(10 * 60_000);
    expect(await guard.prune()).toBe(2);
    expect(await guard.firstUse(SIGNATURE)).toBe(true);
  });
});
