import { describe, expect, it } from '@jest/globals';
import { createSlackChat } from '../../shared/adapters/chat-slack.js';
import { ChatError } from '../../shared/ports/chat.js';
import { startSlackStandIn } from '../support/slack-stand-in.js';
import { chatContract } from './chat.contract.js';

const TOKEN = 'xoxb-test-token';
const channels = { approvals: 'C0APPROVALS', warden: 'C0WARDEN' };
const METHOD = { postMessage: 'chat.postMessage', updateMessage: 'chat.update' } as const;

chatContract('Slack Web API (@slack/web-api against the stand-in)', async () => {
  const slack = await startSlackStandIn({ token: TOKEN, channels });
  const chat = createSlackChat({ botToken: TOKEN, slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  return {
    chat,
    channels,
    issueTrigger: () => slack.issueTrigger(),
    read: (channel, ts) => {
      const m = slack.message(channel, ts);
      return m ? { text: m.text, blocks: m.blocks } : undefined;
    },
    rateLimitNext: (method) => slack.failNext(METHOD[method], { status: 429, retryAfter: 1 }),
    ephemeralTo: (user) => slack.ephemeral.filter((e) => e.user === user).map((e) => e.text),
    cleanup: () => slack.close(),
  };
});

describe('Slack chat adapter specifics', () => {
  it('sends the bot token as a bearer and blocks as JSON in a form-encoded body', async () => {
    const slack = await startSlackStandIn({ token: TOKEN, channels });
    try {
      const chat = createSlackChat({
        botToken: TOKEN,
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
      });
      await chat.postMessage({
        channel: '#approvals',
        text: 't',
        blocks: [{ type: 'divider' }],
      });
      expect(slack.calls).toEqual([
        {
          method: 'chat.postMessage',
          token: TOKEN,
          args: { channel: '#approvals', text: 't', blocks: [{ type: 'divider' }] },
        },
      ]);
    } finally {
      await slack.close();
    }
  });

  it('a wrong token is invalid_auth, and a server error is retryable', async () => {
    const slack = await startSlackStandIn({ token: TOKEN, channels });
    try {
      const wrong = createSlackChat({
        botToken: 'xoxb-wrong',
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
      });
      const denied = await wrong
        .postMessage({ channel: '#approvals', text: 't', blocks: [] })
        .catch((e) => e);
      expect(denied).toBeInstanceOf(ChatError);
      expect(denied).toMatchObject({ slackError: 'invalid_auth', retryable: false });

      const chat = createSlackChat({
        botToken: TOKEN,
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
      });
      slack.failNext('chat.update', { status: 500 });
      const failed = await chat
        .updateMessage({ channel: 'C0APPROVALS', ts: '1.1', text: 't', blocks: [] })
        .catch((e) => e);
      expect(failed).toMatchObject({ retryable: true });
    } finally {
      await slack.close();
    }
  });
});
