import { MemoryChat } from '../../shared/adapters/chat-memory.js';
import { chatContract } from './chat.contract.js';

chatContract('in memory', async () => {
  const channels = { approvals: 'C0APPROVALS', warden: 'C0WARDEN' };
  const chat = new MemoryChat(channels);
  return {
    chat,
    channels,
    issueTrigger: () => chat.issueTrigger(),
    read: (channel, ts) => {
      const m = chat.messages.get(`${channel}/${ts}`);
      return m ? { text: m.text, blocks: m.blocks } : undefined;
    },
    rateLimitNext: (method) => chat.failNext(method, 'ratelimited'),
    ephemeralTo: (user) => chat.ephemeral.filter((e) => e.user === user).map((e) => e.text),
    cleanup: async () => undefined,
  };
});
