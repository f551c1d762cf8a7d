import { afterEach, describe, expect, it } from '@jest/globals';
import { ChatError, type Block, type ChatPort, type ModalView } from '../../shared/ports/chat.js';

export interface ChatUnderTest {
  chat: ChatPort;
  /** The channels the service knows: name (without #) → id. */
  channels: Record<string, string>;
  /** A fresh trigger id, as an interaction payload would carry. */
  issueTrigger(): string;
  /** What the service holds for a message now. */
  read(channel: string, ts: string): { text: string; blocks: unknown[] } | undefined;
  /** The next call of the method fails as a rate-limited call does. */
  rateLimitNext(method: 'postMessage' | 'updateMessage'): void;
  ephemeralTo(user: string): string[];
  cleanup(): Promise<void>;
}

const blocks: Block[] = [
  { type: 'section', text: { type: 'mrkdwn', text: '*Approval needed*' } },
  {
    type: 'actions',
    block_id: 'approval:a1:0',
    elements: [
      {
        type: 'button',
        action_id: 'warden_approve',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'a1',
        style: 'primary',
      },
    ],
  },
];

const view: ModalView = {
  type: 'modal',
  callback_id: 'warden_reject_reason',
  private_metadata: 'a1',
  title: { type: 'plain_text', text: 'Reject' },
  submit: { type: 'plain_text', text: 'Reject' },
  close: { type: 'plain_text', text: 'Cancel' },
  blocks: [
    {
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Why?' },
      element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3 },
    },
  ],
};

async function slackError(p: Promise<unknown>): Promise<ChatError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ChatError) return err;
    throw err;
  }
  throw new Error('expected a ChatError');
}

/** What every ChatPort adapter does, against Slack's documented behaviour. */
export function chatContract(name: string, make: () => Promise<ChatUnderTest>): void {
  describe(`ChatPort contract: ${name}`, () => {
    const made: ChatUnderTest[] = [];
    const fresh = async () => {
      const c = await make();
      made.push(c);
      return c;
    };
    afterEach(async () => {
      for (const c of made.splice(0)) await c.cleanup();
    });

    it('posts to a channel by name or id and answers with the channel id and a ts', async () => {
      const c = await fresh();
      const byName = await c.chat.postMessage({ channel: '#approvals', text: 'hello', blocks });
      expect(byName.channel).toBe(c.channels['approvals']);
      expect(byName.ts).toMatch(/^\d+\.\d+$/);
      const byId = await c.chat.postMessage({ channel: c.channels['approvals']!, text: 'again', blocks });
      expect(byId.channel).toBe(byName.channel);
      expect(byId.ts).not.toBe(byName.ts);
      expect(c.read(byName.channel, byName.ts)).toEqual({ text: 'hello', blocks });
    });

    it('updates a posted message in place', async () => {
      const c = await fresh();
      const posted = await c.chat.postMessage({ channel: '#approvals', text: 'pending', blocks });
      const updatedBlocks: Block[] = [{ type: 'section', text: { type: 'mrkdwn', text: 'Approved' } }];
      const updated = await c.chat.updateMessage({ ...posted, text: 'approved', blocks: updatedBlocks });
      expect(updated).toEqual(posted);
      expect(c.read(posted.channel, posted.ts)).toEqual({ text: 'approved', blocks: updatedBlocks });
    });

    it('fails with channel_not_found for an unknown channel, not retryable', async () => {
      const c = await fresh();
      const err = await slackError(c.chat.postMessage({ channel: '#nowhere', text: 'x', blocks }));
      expect(err.slackError).toBe('channel_not_found');
      expect(err.retryable).toBe(false);
      const eph = await slackError(c.chat.postEphemeral({ channel: '#nowhere', user: 'U1', text: 'x' }));
      expect(eph.slackError).toBe('channel_not_found');
    });

    it('fails with message_not_found when updating a message that does not exist', async () => {
      const c = await fresh();
      const err = await slackError(
        c.chat.updateMessage({ channel: c.channels['approvals']!, ts: '1.000001', text: 'x', blocks }),
      );
      expect(err.slackError).toBe('message_not_found');
      expect(err.retryable).toBe(false);
    });

    it('shows an ephemeral message to one user', async () => {
      const c = await fresh();
      await c.chat.postEphemeral({ channel: '#approvals', user: 'U0EVE', text: 'You are not an approver' });
      expect(c.ephemeralTo('U0EVE')).toEqual(['You are not an approver']);
      expect(c.ephemeralTo('U0ALICE')).toEqual([]);
    });

    it('opens a modal once per trigger id', async () => {
      const c = await fresh();
      const trigger = c.issueTrigger();
      await c.chat.openModal({ triggerId: trigger, view });
      const again = await slackError(c.chat.openModal({ triggerId: trigger, view }));
      expect(again.slackError).toBe('expired_trigger_id');
      expect(again.retryable).toBe(false);
    });

    it('reports a rate-limited call as retryable', async () => {
      const c = await fresh();
      c.rateLimitNext('postMessage');
      const err = await slackError(c.chat.postMessage({ channel: '#approvals', text: 'x', blocks }));
      expect(err.retryable).toBe(true);
      // The next call goes through.
      await expect(c.chat.postMessage({ channel: '#approvals', text: 'x', blocks })).resolves.toMatchObject({
        channel: c.channels['approvals'],
      });
    });
  });
}
